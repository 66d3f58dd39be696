"""A rule's parameters as form fields (type, unit, bounds, default), and posted values back
into the JSON types the rule validates, with messages in the page's language."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from rules.params import ParameterSpec

FIELD_PREFIX = "p_"
MESSAGES = {
    "en": {
        "number": "Enter a number",
        "whole": "Enter a whole number",
        "range": "Enter a number from {min} to {max}",
        "min": "Enter a number of at least {min}",
        "max": "Enter a number of at most {max}",
        "time": "Enter a time like 09:00",
        "required": "Enter a value",
        "bounds": "From {min} to {max}",
        "time_hint": "For example 09:00",
    },
    "de": {
        "number": "Geben Sie eine Zahl ein",
        "whole": "Geben Sie eine ganze Zahl ein",
        "range": "Geben Sie eine Zahl von {min} bis {max} ein",
        "min": "Geben Sie eine Zahl von mindestens {min} ein",
        "max": "Geben Sie eine Zahl von höchstens {max} ein",
        "time": "Geben Sie eine Uhrzeit wie 09:00 ein",
        "required": "Geben Sie einen Wert ein",
        "bounds": "Von {min} bis {max}",
        "time_hint": "Zum Beispiel 09:00",
    },
}


@dataclass(frozen=True)
class ParamField:
    id: str
    spec: ParameterSpec
    label: str
    hint: str
    value: str
    kind: str  # "number", "time", "bool", "text"


def _say(lang: str, key: str, **values: object) -> str:
    return MESSAGES.get(lang, MESSAGES["en"])[key].format(**values)


def shown(value: Any, lang: str) -> str:
    """A stored value as the form shows it (``12,5`` in German)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return text.replace(".", ",") if lang == "de" and isinstance(value, float) else text


def fields(
    specs: tuple[ParameterSpec, ...] | list[ParameterSpec],
    labels: dict[str, str],
    values: dict[str, Any],
    lang: str,
) -> list[ParamField]:
    result = []
    for spec in specs:
        kind = {"double": "number", "int": "number", "time": "time", "bool": "bool"}.get(
            spec.type, "text"
        )
        label = labels.get(spec.name) or spec.name
        if spec.unit:
            label = f"{label} ({spec.unit})"
        hint = ""
        if kind == "number" and spec.min is not None and spec.max is not None:
            hint = _say(lang, "bounds", min=shown(spec.min, lang), max=shown(spec.max, lang))
        elif kind == "time":
            hint = _say(lang, "time_hint")
        value = values.get(spec.name, spec.default)
        shown_value = "on" if value is True else shown(value, lang)
        result.append(ParamField(FIELD_PREFIX + spec.name, spec, label, hint, shown_value, kind))
    return result


def parse(
    specs: tuple[ParameterSpec, ...] | list[ParameterSpec], form: FormData, lang: str
) -> tuple[dict[str, Any], dict[str, str], list[tuple[str, str]]]:
    """(values for the rule, what was typed, errors as (field id, message))."""
    values: dict[str, Any] = {}
    typed: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    for spec in specs:
        field_id = FIELD_PREFIX + spec.name
        raw = form.get(field_id)
        text = raw.strip() if isinstance(raw, str) else ""
        typed[spec.name] = text
        try:
            parsed = _value(spec, text, lang)
        except ValueError as exc:
            errors.append((field_id, str(exc)))
            continue
        if parsed is not None:
            values[spec.name] = parsed
    return values, typed, errors


def _value(spec: ParameterSpec, text: str, lang: str) -> Any:
    if spec.type == "bool":
        return text == "on"
    if not text:
        if spec.default is None:
            raise ValueError(_say(lang, "required"))
        return None
    if spec.type in ("double", "int"):
        return _number(spec, text, lang)
    if spec.type == "time" and not _is_time(text):
        raise ValueError(_say(lang, "time"))
    return text


def _number(spec: ParameterSpec, text: str, lang: str) -> float | int:
    try:
        number = float(text.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise ValueError(_say(lang, "number")) from None
    if not math.isfinite(number):
        raise ValueError(_say(lang, "number"))
    if spec.type == "int" and not number.is_integer():
        raise ValueError(_say(lang, "whole"))
    low, high = spec.min, spec.max
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            raise ValueError(_say(lang, "range", min=shown(low, lang), max=shown(high, lang)))
        key, bound = ("min", low) if low is not None and number < low else ("max", high)
        raise ValueError(_say(lang, key, **{key: shown(bound, lang)}))
    return int(number) if spec.type == "int" else number


def _is_time(text: str) -> bool:
    hours, sep, minutes = text.partition(":")
    return (
        bool(sep)
        and hours.isdigit()
        and minutes.isdigit()
        and len(minutes) == 2
        and (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59 and len(hours) == 2)
    )
