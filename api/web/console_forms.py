"""A rule's definition as the console's form fields, and the posted form back into a
definition; validation errors mapped to the field that shows them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from engine.errors import InvalidInput

TEXT_FIELDS = ("key", "topic", "metric", "event_type", "condition", "template_key")
CHOICES: dict[str, tuple[str, ...]] = {
    "kind": ("threshold", "event", "schedule"),
    "window": ("", "none", "hour", "day", "week", "month", "billing"),
    "aggregate": ("", "sum", "avg", "min", "max", "last", "count"),
    "urgency": ("normal", "urgent"),
    "rearm_mode": ("once_per_window", "on_leave"),
    "cap_policy": ("defer", "suppress"),
}
OPTIONS = {name: [(v, v or "—") for v in values] for name, values in CHOICES.items()}
# Where a validation error's path is shown: the first matching prefix wins.
FIELD_OF: tuple[tuple[tuple[str, ...], str], ...] = (
    (("title", "en"), "title_en"),
    (("title", "de"), "title_de"),
    (("title",), "title_en"),
    (("description", "de"), "description_de"),
    (("description",), "description_en"),
    (("rearm", "hysteresis"), "hysteresis"),
    (("rearm",), "rearm_mode"),
    (("late_policy",), "late_hours"),
    (("escalation_delay_minutes",), "escalation"),
    (("requires_ack",), "requires_ack"),
    (("parameters",), "parameters"),
    (("baseline_windows",), "baseline_windows"),
)
FORM_FIELDS = (
    *TEXT_FIELDS,
    *CHOICES,
    "title_en",
    "title_de",
    "description_en",
    "description_de",
    "baseline_windows",
    "parameters",
    "hysteresis",
    "late_hours",
    "escalation",
)


@dataclass(frozen=True)
class Position:
    """Where a condition fails to compile, with the line it points into."""

    line: int
    column: int
    source_line: str

    @property
    def caret(self) -> str:
        return " " * max(self.column - 1, 0) + "^"


def form_values(definition: dict[str, Any]) -> dict[str, str]:
    """The form's text for each field of a stored definition."""
    d = definition
    values = {name: str(d.get(name) or "") for name in (*TEXT_FIELDS, "kind", "window")}
    values["aggregate"] = str(d.get("aggregate") or "")
    values["urgency"] = str(d.get("urgency") or "normal")
    values["cap_policy"] = str(d.get("cap_policy") or "defer")
    rearm, late = d.get("rearm") or {}, d.get("late_policy") or {}
    values["rearm_mode"] = str(rearm.get("mode") or "once_per_window")
    values["hysteresis"] = _num(rearm.get("hysteresis"))
    values["late_hours"] = _num(late.get("notify_within_hours"))
    values["escalation"] = _num(d.get("escalation_delay_minutes", 60))
    values["baseline_windows"] = _num(d.get("baseline_windows", 4))
    values["requires_ack"] = "on" if d.get("requires_ack") else ""
    for part in ("title", "description"):
        for lang in ("en", "de"):
            values[f"{part}_{lang}"] = str((d.get(part) or {}).get(lang) or "")
    params = d.get("parameters") or []
    values["parameters"] = json.dumps(params, ensure_ascii=False, indent=1) if params else "[]"
    return values


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def posted_values(form: FormData) -> dict[str, str]:
    # Whole, as the JSON API takes them: the request's body limit bounds their size, and the
    # rule's own bounds (a condition's length) are checked with the rest of the definition.
    values = {name: str(form.get(name) or "") for name in FORM_FIELDS}
    values["requires_ack"] = "on" if form.get("requires_ack") else ""
    return values


def definition_from(values: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """The definition the form describes; texts in other locales than en/de are kept.
    Raises InvalidInput for a field the form itself cannot read (numbers, parameters)."""
    d: dict[str, Any] = {name: values[name].strip() or None for name in TEXT_FIELDS}
    d["condition"] = values["condition"].strip()
    d["kind"] = values["kind"]
    d["window"] = values["window"] or None
    d["aggregate"] = values["aggregate"] or None
    d["urgency"], d["cap_policy"] = values["urgency"], values["cap_policy"]
    for part in ("title", "description"):
        texts = dict(base.get(part) or {})
        for lang in ("en", "de"):
            texts.pop(lang, None)
            if values[f"{part}_{lang}"].strip():
                texts[lang] = values[f"{part}_{lang}"].strip()
        d[part] = texts
    d["rearm"] = {"mode": values["rearm_mode"], "hysteresis": _float(values, "hysteresis")}
    d["late_policy"] = {"notify_within_hours": _float(values, "late_hours")}
    # Left empty, the default; given, checked as the JSON API checks it (4.5 windows or a
    # zero delay are refused, not rounded or replaced).
    escalation, baseline = _float(values, "escalation"), _float(values, "baseline_windows")
    d["escalation_delay_minutes"] = 60.0 if escalation is None else escalation
    d["baseline_windows"] = 4 if baseline is None else baseline
    d["requires_ack"] = values["requires_ack"] == "on"
    d["parameters"] = _parameters(values["parameters"])
    return d


def _float(values: dict[str, str], name: str) -> float | None:
    raw = values[name].strip().replace(",", ".")
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InvalidInput.at(("body", name), "enter a number") from None
    return number


def _parameters(raw: str) -> list[Any]:
    try:
        parsed = json.loads(raw or "[]")
    except json.JSONDecodeError as exc:
        msg = f"not JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise InvalidInput.at(("body", "parameters"), msg) from None
    if not isinstance(parsed, list):
        raise InvalidInput.at(("body", "parameters"), "a JSON list of parameters")
    return parsed


def field_errors(exc: InvalidInput) -> list[tuple[str, str]]:
    """Each error beside the form field that shows it."""
    shown = []
    for error in exc.errors or []:
        path = tuple(str(p) for p in error.loc[1:])
        shown.append((_field_for(path), error.msg))
    return shown or [("key", exc.detail)]


def _field_for(path: tuple[str, ...]) -> str:
    for prefix, name in FIELD_OF:
        if path[: len(prefix)] == prefix:
            return name
    head = path[0] if path else "key"
    return head if head in FORM_FIELDS else "key"


def position_of(exc: InvalidInput, condition: str) -> Position | None:
    found = exc.extra.get("position") if exc.extra else None
    if not isinstance(found, dict):
        return None
    line, column = int(found.get("line", 1)), int(found.get("column", 1))
    lines = condition.splitlines() or [""]
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    return Position(line, column, source)
