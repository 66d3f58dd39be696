"""Save-time checks of a template set: it parses, uses only known variables, stays in the
sandbox, renders with a sample context and, for SMS, fits the segment budget."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import meta, nodes

from engine.errors import FieldError
from engine.templating.context import CONTEXT_VARIABLES, sample_context
from engine.templating.environment import environment
from engine.templating.errors import TemplateInvalid, TemplateRenderFailed, TemplateUnsafe
from engine.templating.render import (
    CHANNEL_PARTS,
    HTML_PARTS,
    PARTS_LOC,
    REQUIRED_PARTS,
    RenderedMessage,
    compile_part,
    render,
)
from engine.templating.sms import SmsSegments, count_segments, non_gsm7

DEFAULT_MAX_SMS_SEGMENTS = 3


@dataclass(frozen=True)
class TemplateReport:
    """What a valid template set uses and how its sample renders; ``warnings`` do not block."""

    channel: str
    variables: frozenset[str]
    sample: RenderedMessage | None
    sms: SmsSegments | None
    warnings: tuple[FieldError, ...]


def validate(
    parts: Mapping[str, str],
    channel: str,
    allowed_variables: Collection[str] = CONTEXT_VARIABLES,
    *,
    rule_key: str | None = None,
    locale: str = "en",
    timezone: str = "UTC",
    sample: Mapping[str, Any] | None = None,
    max_sms_segments: int = DEFAULT_MAX_SMS_SEGMENTS,
) -> TemplateReport:
    """Check ``parts`` for ``channel``; raises `TemplateInvalid` or `TemplateUnsafe` listing
    every problem. A sample that fails to render (it may lack a new rule's params) warns."""
    _check_parts(parts, channel)
    variables = _check_sources(parts, set(allowed_variables))
    context = sample if sample is not None else sample_context(rule_key, locale, timezone)
    warnings: list[FieldError] = []
    try:
        rendered: RenderedMessage | None = render(parts, context, locale, timezone)
    except TemplateRenderFailed as exc:
        rendered = None
        warnings.extend(FieldError(e.loc, e.msg, "sample_render") for e in exc.errors)
    segments = count_segments(rendered.text) if rendered and channel == "sms" else None
    if segments is not None and rendered is not None:
        warnings.extend(_sms_warnings(rendered.text, segments, max_sms_segments))
    return TemplateReport(channel, frozenset(variables), rendered, segments, tuple(warnings))


def _check_parts(parts: Mapping[str, str], channel: str) -> None:
    if channel not in CHANNEL_PARTS:
        known = ", ".join(CHANNEL_PARTS)
        raise TemplateInvalid.at(("body", "channel"), f"unknown channel {channel!r} ({known})")
    errors = [
        FieldError((*PARTS_LOC, name), f"{channel} templates need a {name!r} part", "missing")
        for name in REQUIRED_PARTS[channel]
        if name not in parts
    ]
    errors += [
        FieldError((*PARTS_LOC, name), f"{channel} templates have no {name!r} part", "unknown")
        for name in parts
        if name not in CHANNEL_PARTS[channel]
    ]
    _raise_if(errors)


def _check_sources(parts: Mapping[str, str], allowed: set[str]) -> set[str]:
    errors: list[FieldError] = []
    used: set[str] = set()
    for name, source in parts.items():
        try:
            compile_part(name, source)
        except TemplateInvalid as exc:
            errors.extend(exc.errors)
            continue
        ast = environment(name in HTML_PARTS).parse(source)
        names = meta.find_undeclared_variables(ast) - set(environment(False).globals)
        used |= names
        errors.extend(_unknown_variables(name, names - allowed, allowed))
        errors.extend(_unsafe_nodes(name, ast))
    _raise_if(errors)
    return used


def _unknown_variables(part: str, unknown: set[str], allowed: set[str]) -> Iterable[FieldError]:
    available = ", ".join(sorted(allowed))
    for variable in sorted(unknown):
        msg = f"{part}: unknown variable {variable!r} (available: {available})"
        yield FieldError((*PARTS_LOC, part), msg, "template_variable")


def _unsafe_nodes(part: str, ast: nodes.Template) -> Iterable[FieldError]:
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        attr = _accessed_name(node)
        if attr is not None and attr.startswith("_"):
            msg = f"{part}, line {node.lineno}: access to {attr!r} is not allowed"
            yield FieldError((*PARTS_LOC, part), msg, "template_unsafe")
    for ref in meta.find_referenced_templates(ast):
        msg = f"{part}: templates cannot include, import or extend others ({ref!r})"
        yield FieldError((*PARTS_LOC, part), msg, "template_unsafe")


def _accessed_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return str(node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        value = node.arg.value
        return value if isinstance(value, str) else None
    return None


def _sms_warnings(text: str, segments: SmsSegments, limit: int) -> Iterable[FieldError]:
    loc = (*PARTS_LOC, "text")
    if segments.segments > limit:
        msg = f"the sample is {segments.segments} SMS segments, above the limit of {limit}"
        yield FieldError(loc, msg, "sms_segments")
    if segments.encoding == "UCS-2":
        chars = "".join(non_gsm7(text)[:5])
        msg = f"characters outside GSM-7 ({chars!r}) make each SMS segment hold 70, not 160"
        yield FieldError(loc, msg, "sms_encoding")


def _raise_if(errors: list[FieldError]) -> None:
    if not errors:
        return
    kind = TemplateUnsafe if any(e.type == "template_unsafe" for e in errors) else TemplateInvalid
    raise kind(detail="; ".join(e.msg for e in errors), errors=errors)
