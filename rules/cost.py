"""A bound on what one evaluation of a condition can cost, checked when it is compiled.

cel-expr-python stops an evaluation after 10,000 iterations, but iterations are not cost,
and an evaluation holds the interpreter for its whole length, so every request in the
process waits for it. The data a condition reads is bounded where it enters (customer
attributes and event fields: at most 100 items a list or object, 1,000 characters a
string), and the condition itself is estimated here, token by token, in microseconds of
worst-case work on that data (measured with cel-expr-python 0.1.3 on 2 cores):

- an ordinary operand or operator: 0.5 (``size()`` of a 1,000-character string is ~0.9);
- ``==``/``!=``: 16 (two 100-key objects of 1,000-character strings), 0.5 beside a literal;
- ``in``: 4 (a miss in a 100-item list); ``contains``/``startsWith``/``endsWith``: 6;
- ``matches``: 20 and 6 a character of its pattern (RE2 compiles it at every call), which
  must be a string literal of at most 100 characters without counted repetition
  (``[ab]{1000}`` takes 24 ms, a 1,000-character pattern from an attribute 13 ms);
- ``+``: 20 (it copies: strings and lists grow), at most 8 in a condition;
- a comprehension (``all``, ``exists``, ``exists_one``): its body and 0.5 a step, times its
  steps (100 for bounded data, more for literal lists or concatenations it iterates over).

A condition is refused when the estimate passes ``BUDGET_US`` (1 ms), and in any case if it
nests comprehensions, builds lists at every step (``map``, ``filter``), uses more than three
comprehensions, or concatenates inside a comprehension (the value would grow at every step).
Refusals name the line and column of what broke the bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rules.errors import ConditionCompileError

MAX_COMPREHENSIONS = 3
MAX_CONCATENATIONS = 8
BUDGET_US = 1000.0
STEPS = 100  # items in a list or object a condition reads (engine.platform.validation)
BOOLEAN_MACROS = frozenset({"all", "exists", "exists_one"})
LIST_MACROS = frozenset({"map", "filter"})

STEP_US = 0.5
TOKEN_US = 0.5
EQUALITY_US = 16.0
IN_US = 4.0
SEARCH_US = 6.0
MATCHES_US = 20.0
PATTERN_CHAR_US = 6.0  # `.*a` and 97 dots, matched against 1,000 characters: ~520
MAX_PATTERN = 100
CONCAT_US = 20.0
_SEARCHES = frozenset({"contains", "startsWith", "endsWith"})
_FREE = frozenset({"(", ")", "[", "]", "{", "}", ",", ".", ":"})

_QUOTES = ('"""', "'''", '"', "'")
_STRING_PREFIX = re.compile(r"(?:[rR][bB]?|[bB][rR]?)?(?=['\"])")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[uU]?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||")
_LITERAL_WORDS = frozenset({"true", "false", "null"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "string", "number", "ident" or "op"
    text: str
    at: int

    @property
    def scalar_literal(self) -> bool:
        return self.kind in ("string", "number") or self.text in _LITERAL_WORDS


def check_cost(source: str) -> None:
    """Raise `ConditionCompileError` at the first part of ``source`` that breaks the bounds."""
    _Estimate(source, tokenize(source)).run()


def estimate_us(source: str) -> float:
    """The estimated worst-case microseconds of one evaluation (bounds not checked)."""
    estimate = _Estimate(source, tokenize(source), checking=False)
    estimate.run()
    return estimate.total


class _Estimate:
    def __init__(self, source: str, tokens: list[Token], *, checking: bool = True) -> None:
        self.source, self.tokens, self.checking = source, tokens, checking
        self.total = 0.0
        self.depth = 0
        self.commas = self.pluses = self.comprehensions = 0
        # the open comprehension: its '.' and macro tokens, paren depth, steps and body cost so far
        self.open: tuple[Token, Token, int, int] | None = None
        self.body = 0.0

    def run(self) -> None:
        tokens = self.tokens
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if _is_macro(tokens, i):
                self._start(token, tokens[i + 1])
                i += 3
                continue
            if token.text == "(":
                self.depth += 1
            elif token.text == ")":
                self._close_paren(token)
            elif token.text == "," and self.open is None:
                self.commas += 1
            elif token.text == "+":
                self._concatenation(token)
            weight = _weight(tokens, i)
            if token.text == "matches" and weight == MATCHES_US:
                weight += PATTERN_CHAR_US * self._pattern_length(i)
            self._add(token, weight)
            i += 1

    def _start(self, dot: Token, macro: Token) -> None:
        if self.checking:
            if macro.text in LIST_MACROS:
                self._fail(
                    dot.at,
                    f"'{macro.text}' builds a list at every step: use all, exists or exists_one",
                )
            if self.open is not None:
                self._fail(
                    dot.at, f"'{macro.text}' inside another comprehension: its cost would multiply"
                )
            if self.comprehensions >= MAX_COMPREHENSIONS:
                self._fail(
                    dot.at, f"more than {MAX_COMPREHENSIONS} comprehensions in one condition"
                )
        self.comprehensions += 1
        self.depth += 1
        if self.open is None:
            # a literal list has at most commas + 1 items, a concatenation adds its operands
            steps = STEPS * (1 + self.pluses) + self.commas
            self.open = (dot, macro, self.depth, steps)
            self.body = 0.0

    def _close_paren(self, token: Token) -> None:
        if self.open is not None and self.open[2] == self.depth:
            dot, macro, _, steps = self.open
            self.open = None
            self.total += steps * (STEP_US + self.body)
            self._over(dot.at, f"'{macro.text}' runs its body up to {steps} times")
        self.depth -= 1

    def _pattern_length(self, i: int) -> int:
        """The length of the literal pattern of the ``matches`` call at ``tokens[i]``."""
        tokens, call = self.tokens, self.tokens[i]
        depth, end = 0, i + 1
        while end < len(tokens):
            depth += {"(": 1, ")": -1}.get(tokens[end].text, 0)
            if depth == 0:
                break
            end += 1
        pattern = tokens[end - 1] if end - 1 > i + 1 else None
        if not self.checking and (pattern is None or pattern.kind != "string"):
            return MAX_PATTERN
        if pattern is None or pattern.kind != "string" or tokens[end - 2].text not in "(,":
            self._fail(call.at, "'matches' needs its pattern as a string literal")
            return MAX_PATTERN
        text = pattern.text.strip("rRbB")[1:-1]
        if self.checking and len(text) > MAX_PATTERN:
            self._fail(pattern.at, f"a pattern of 'matches' has at most {MAX_PATTERN} characters")
        if self.checking and "{" in text:
            self._fail(pattern.at, "counted repetition ({n}) multiplies a pattern: spell it out")
        return len(text)

    def _concatenation(self, token: Token) -> None:
        self.pluses += 1
        if not self.checking:
            return
        if self.open is not None:
            self._fail(
                token.at,
                "'+' inside a comprehension: a concatenation would grow at every step "
                "(compute it outside the comprehension)",
            )
        if self.pluses > MAX_CONCATENATIONS:
            self._fail(token.at, f"more than {MAX_CONCATENATIONS} '+' in one condition")

    def _add(self, token: Token, weight: float) -> None:
        if self.open is not None:
            self.body += weight
            return
        self.total += weight
        self._over(token.at, f"at '{token.text[:20]}'")

    def _over(self, at: int, what: str) -> None:
        if self.checking and self.total > BUDGET_US:
            self._fail(
                at,
                f"too costly: up to {self.total / 1000:.1f} ms an evaluation by here ({what}), "
                f"more than the {BUDGET_US / 1000:g} ms allowed "
                "(use fewer comprehensions, comparisons, searches or regular expressions)",
            )

    def _fail(self, at: int, message: str) -> None:
        _fail(self.source, at, message)


def _is_macro(tokens: list[Token], i: int) -> bool:
    return (
        tokens[i].text == "."
        and i + 2 < len(tokens)
        and tokens[i + 1].kind == "ident"
        and tokens[i + 1].text in BOOLEAN_MACROS | LIST_MACROS
        and tokens[i + 2].text == "("
    )


def _weight(tokens: list[Token], i: int) -> float:
    token = tokens[i]
    if token.text in _FREE:
        return 0.0
    if token.text in ("==", "!="):
        before = tokens[i - 1] if i > 0 else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        later = tokens[i + 2] if i + 2 < len(tokens) else None
        if before is not None and before.scalar_literal:
            return TOKEN_US
        if after is not None and after.scalar_literal and (later is None or later.text not in ".["):
            return TOKEN_US
        return EQUALITY_US
    if token.text == "+":
        return CONCAT_US
    if token.kind == "ident" and i + 1 < len(tokens) and tokens[i + 1].text == "(":
        if token.text == "matches":
            return MATCHES_US
        if token.text in _SEARCHES:
            return SEARCH_US
    if token.text == "in" and token.kind == "ident":
        return IN_US
    return TOKEN_US


def tokenize(source: str) -> list[Token]:
    """CEL's tokens, roughly: enough to weigh them, not to parse (the compiler does that)."""
    tokens: list[Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = len(source) if end < 0 else end
        elif (prefix := _STRING_PREFIX.match(source, i)) is not None:
            end = _after_string(source, prefix.end())
            tokens.append(Token("string", source[i:end], i))
            i = end
        elif (number := _NUMBER.match(source, i)) is not None:
            tokens.append(Token("number", number.group(), i))
            i = number.end()
        elif (ident := _IDENT.match(source, i)) is not None:
            tokens.append(Token("ident", ident.group(), i))
            i = ident.end()
        else:
            text = next((op for op in _OPERATORS if source.startswith(op, i)), char)
            tokens.append(Token("op", text, i))
            i += len(text)
    return tokens


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
