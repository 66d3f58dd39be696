"""A bound on what one evaluation of a condition can cost, checked when it is compiled.

cel-expr-python stops an evaluation after 10,000 iterations, but iterations are not cost:
comprehensions nested in comprehensions multiply, and a comprehension that builds lists
(``map``, ``filter``) copies its result at every step, so one over a few thousand items runs
for seconds. Conditions therefore may use at most a few comprehensions, none inside
another, and none that builds a list; the data they iterate over is bounded where it enters
(customer attributes and event fields: at most 100 items a list, 1,000 characters a string).
With those bounds the costliest condition of the longest allowed length runs in tens of
milliseconds, not seconds.
"""

from __future__ import annotations

import re

from rules.errors import ConditionCompileError

MAX_COMPREHENSIONS = 3
BOOLEAN_MACROS = frozenset({"all", "exists", "exists_one"})
LIST_MACROS = frozenset({"map", "filter"})
_MACRO = re.compile(r"\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_QUOTES = ('"""', "'''", '"', "'")


def check_cost(source: str) -> None:
    """Raise `ConditionCompileError` at the first comprehension that breaks the bounds."""
    open_macros: list[int] = []  # depth of each open parenthesis that starts a comprehension
    depth, count, i = 0, 0, 0
    while i < len(source):
        char = source[i]
        if char in "\"'":
            i = _after_string(source, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            if open_macros and open_macros[-1] == depth:
                open_macros.pop()
            depth -= 1
        elif char == ".":
            match = _MACRO.match(source, i)
            if match and match.group(1) in BOOLEAN_MACROS | LIST_MACROS:
                _check_macro(source, i, match.group(1), bool(open_macros), count)
                count += 1
                depth += 1
                open_macros.append(depth)
                i = match.end()
                continue
        i += 1


def _check_macro(source: str, at: int, name: str, nested: bool, earlier: int) -> None:
    if name in LIST_MACROS:
        _fail(source, at, f"'{name}' builds a list at every step: use all, exists or exists_one")
    if nested:
        _fail(source, at, f"'{name}' inside another comprehension: its cost would multiply")
    if earlier >= MAX_COMPREHENSIONS:
        _fail(source, at, f"more than {MAX_COMPREHENSIONS} comprehensions in one condition")


def _after_string(source: str, start: int) -> int:
    """The index just past the string literal that starts at ``start``."""
    quote = next(q for q in _QUOTES if source.startswith(q, start))
    i = start + len(quote)
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(quote, i):
            return i + len(quote)
        i += 1
    return len(source)  # unterminated: the compiler reports it


def _fail(source: str, at: int, message: str) -> None:
    line = source.count("\n", 0, at) + 1
    column = at - (source.rfind("\n", 0, at) + 1) + 1
    raise ConditionCompileError(message, line, column)
