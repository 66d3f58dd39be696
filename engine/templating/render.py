"""Rendering a template set (the parts of one key, channel and locale) for one customer."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.exceptions import SecurityError

from engine.errors import FieldError
from engine.templating.environment import CACHE, CURRENT_BUDGET, RenderBudget, RenderTimeout
from engine.templating.errors import (
    TemplateInvalid,
    TemplateOverBudget,
    TemplateRenderFailed,
    TemplateUnsafe,
)
from engine.templating.formatting import FORMATTER_VAR, Formatter, zone

CHANNEL_PARTS: Mapping[str, tuple[str, ...]] = {
    "email": ("subject", "text", "html"),
    "sms": ("text",),
    "voice": ("text",),
}
REQUIRED_PARTS: Mapping[str, tuple[str, ...]] = {
    "email": ("subject", "text"),
    "sms": ("text",),
    "voice": ("text",),
}
HTML_PARTS = frozenset({"html"})
MAX_PART_CHARS = 100_000
RENDER_SECONDS = 0.2  # for all parts of one message
PARTS_LOC: tuple[str, ...] = ("body", "parts")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class RenderedMessage:
    """One message as it goes out: ``subject`` and ``html`` only for email."""

    subject: str | None
    text: str
    html: str | None


def render(
    parts: Mapping[str, str], context: Mapping[str, Any], locale: str, timezone: str
) -> RenderedMessage:
    """Render every part with ``context``, formatting values for ``locale`` and ``timezone``."""
    unknown = sorted(set(parts) - set(CHANNEL_PARTS["email"]))
    if unknown or "text" not in parts:
        problem = f"unknown part {unknown[0]!r}" if unknown else "a template needs a text part"
        raise TemplateInvalid.at((*PARTS_LOC, unknown[0] if unknown else "text"), problem)
    values = {**context, FORMATTER_VAR: Formatter.for_customer(locale, zone(timezone))}
    token = CURRENT_BUDGET.set(RenderBudget(RENDER_SECONDS))
    try:
        out = {name: render_part(name, source, values) for name, source in parts.items()}
    finally:
        CURRENT_BUDGET.reset(token)
    subject = out.get("subject")
    return RenderedMessage(
        subject=" ".join(subject.split()) if subject is not None else None,
        text=out["text"],
        html=out.get("html"),
    )


def render_part(name: str, source: str, values: Mapping[str, Any]) -> str:
    """One part, tidied; every failure is a domain error that names the part and line."""
    template = compile_part(name, source)
    try:
        output = _bounded(template.generate(values))
    except SecurityError as exc:
        raise _error(TemplateUnsafe, name, exc, "template_unsafe") from exc
    except (RenderTimeout, OverflowError) as exc:
        raise _error(TemplateOverBudget, name, exc, "template_budget") from exc
    except Exception as exc:  # the template is staff input: whatever it raises is theirs to fix
        raise _error(TemplateRenderFailed, name, exc, "template_render") from exc
    return _tidy(output)


def compile_part(name: str, source: str) -> Template:
    """The cached compiled template of a part; a syntax error names the part and line."""
    try:
        return CACHE.get(source, html=name in HTML_PARTS)
    except TemplateSyntaxError as exc:
        msg = f"{name}, line {exc.lineno}: {exc.message}"
        raise TemplateInvalid(
            detail=msg, errors=[FieldError((*PARTS_LOC, name), msg, "template_syntax")]
        ) from exc


def _bounded(chunks: Iterator[str]) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_PART_CHARS:
            raise OverflowError(f"output is longer than {MAX_PART_CHARS} characters")
        out.append(chunk)
    return "".join(out)


def _tidy(text: str) -> str:
    lines = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return _BLANK_LINES.sub("\n\n", lines)


def _error(
    kind: type[TemplateUnsafe | TemplateRenderFailed | TemplateOverBudget],
    name: str,
    exc: Exception,
    type: str,
) -> TemplateUnsafe | TemplateRenderFailed | TemplateOverBudget:
    line = template_line(exc.__traceback__)
    where = f"{name}, line {line}" if line else name
    msg = f"{where}: {exc}"
    return kind(detail=msg, errors=[FieldError((*PARTS_LOC, name), msg, type)])


def template_line(tb: TracebackType | None) -> int | None:
    """The template line of the innermost template frame (Jinja rewrites tracebacks so)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
