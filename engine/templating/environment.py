"""The sandboxed Jinja environments and the compiled-template cache.

Templates are staff-authored source strings. They run in an immutable sandbox with strict
undefined variables, no loader (so no include, import or extends reaches a file), a short list
of filters and bounds on operators that could build huge values.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, Template, Undefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.templating.formatting import register_filters

MAX_REPEAT = 10_000
MAX_EXPONENT = 100
# Filters that cannot reach outside the given values or grow them without bound.
SAFE_FILTERS = frozenset(
    {
        "abs", "attr", "batch", "capitalize", "count", "d", "default", "dictsort", "e",
        "escape", "first", "float", "groupby", "int", "join", "last", "length", "list",
        "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round",
        "select", "selectattr", "slice", "sort", "string", "striptags", "sum", "title",
        "trim", "truncate", "unique", "upper", "urlencode", "wordcount",
    }
)  # fmt: skip
SAFE_GLOBALS = frozenset({"range", "dict", "namespace", "cycler", "joiner"})
BUDGET_GLOBAL = "_nudge_budgeted"
# str methods whose arguments set the output size, and formatting that bypasses the filters.
UNSAFE_STR_METHODS = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map"}
)


class _NoFiles(BaseLoader):
    """Refuses every include, import and extends: templates see only their own source."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        raise SecurityError(f"templates cannot include, import or extend others ({template!r})")


class RenderBudget:
    """How long one render may run: loops check it as they go (`budgeted`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.perf_counter() + seconds

    def check(self) -> None:
        if time.perf_counter() > self.deadline:
            raise RenderTimeout(f"rendering took longer than {self.seconds * 1000:g} ms")


class RenderTimeout(Exception):
    """A render ran past its `RenderBudget`."""


CURRENT_BUDGET: ContextVar[RenderBudget | None] = ContextVar("render_budget", default=None)
_CHECK_EVERY = 256


def budgeted(iterable: Any) -> Iterator[Any]:
    """Every ``{% for %}`` iterates through this: entering a loop and every 256 steps, the
    render's time budget is checked (loops are where templates spend unbounded time)."""
    budget = CURRENT_BUDGET.get()
    if budget is None:
        yield from iterable
        return
    budget.check()
    for step, item in enumerate(iterable, start=1):
        if step % _CHECK_EVERY == 0:
            budget.check()
        yield item


class NudgeSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox plus bounds on ``*``, ``**`` and ``%``, and a time budget that
    every loop checks."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(
                nodes.Name(BUDGET_GLOBAL, "load"), [loop.iter], [], None, None, lineno=loop.lineno
            )
        return tree

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in UNSAFE_STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        # Keep the first refusal: `x.__class__.__init__` reports `__class__`, not `__init__`.
        if isinstance(obj, Undefined):
            return obj
        return super().unsafe_undefined(obj, attribute)

    def wrap_str_format(self, value: Any) -> None:
        # str.format is refused by is_safe_attribute; the sandbox would otherwise allow it.
        return None

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(right)
        elif isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed; use filters")
        return super().call_binop(context, operator, left, right)


def _check_repeat(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and times > MAX_REPEAT:
            raise SecurityError(f"repeating a sequence more than {MAX_REPEAT} times")


def _check_power(exponent: Any) -> None:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")


def _finalize(value: Any) -> Any:
    # A missing optional value (e.g. no previous window) prints as nothing, not "None".
    return "" if value is None else value


def _build(autoescape: bool) -> NudgeSandbox:
    env = NudgeSandbox(
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=_finalize,
        loader=_NoFiles(),
        auto_reload=False,
    )
    env.filters = {k: v for k, v in env.filters.items() if k in SAFE_FILTERS}
    env.globals = {k: v for k, v in env.globals.items() if k in SAFE_GLOBALS}
    env.globals[BUDGET_GLOBAL] = budgeted
    register_filters(env)
    return env


TEXT_ENV = _build(autoescape=False)
HTML_ENV = _build(autoescape=True)


def environment(html: bool) -> NudgeSandbox:
    """The environment for a part: HTML parts autoescape, text parts do not."""
    return HTML_ENV if html else TEXT_ENV


class TemplateCache:
    """Compiled templates by (autoescape, source), least recently used evicted.

    Keyed by the source itself, not a digest of it: a string caches its hash, so rendering
    every message of a dispatch batch from the same source strings hashes none of them again."""

    def __init__(self, maxsize: int = 2048) -> None:
        self._maxsize = maxsize
        self._items: OrderedDict[tuple[bool, str], Template] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: str, html: bool) -> Template:
        """The compiled ``source``; raises ``TemplateSyntaxError`` if it does not parse."""
        key = (html, source)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        template = environment(html).from_string(source)
        with self._lock:
            self._items[key] = template
            if len(self._items) > self._maxsize:
                self._items.popitem(last=False)
        return template

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = TemplateCache()
