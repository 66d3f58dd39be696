"""Field parsers shared by the feed formats; each raises `RowError` naming field and reason."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from engine.platform.validation import EARLIEST, MAX_MAGNITUDE

MAX_FUTURE = timedelta(days=1)
MAX_DURATION_S = 366 * 86_400
MAX_TEXT = 200

_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
_EPOCH = re.compile(r"\d+(?:\.\d*)?")
_ISO_DURATION = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)
_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}


class RowError(Exception):
    """One row is rejected: which field (None for the whole row) and why."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def require(raw: Mapping[str, object], field: str) -> object:
    """The field's value; a missing, null or empty one rejects the row."""
    value = raw.get(field)
    if value is None or value == "":
        raise RowError(field, f"missing field '{field}'")
    return value


def as_number(value: object, field: str) -> float:
    """A finite float from a JSON number or a numeric string."""
    if type(value) is float:
        number = value
    elif type(value) is int or type(value) is str:
        number = _to_float(value, field)
    else:
        raise RowError(field, f"not a number: {value!r}")
    if not math.isfinite(number):
        raise RowError(field, "NaN and infinity are not allowed")
    return number


def as_text(value: object, field: str) -> str:
    """A non-empty string of at most MAX_TEXT characters; integers are accepted as text."""
    if type(value) is int:
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise RowError(field, f"'{field}' must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise RowError(field, f"'{field}' is longer than {MAX_TEXT} characters")
    return value.strip()


def as_name(value: object, field: str) -> str:
    """A dotted lowercase name such as ``electricity.consumption``."""
    if not isinstance(value, str) or len(value) > 64 or not _NAME.fullmatch(value):
        raise RowError(field, f"'{field}' must be a dotted lowercase name, got {value!r}")
    return value


def as_timestamp(value: object, field: str) -> datetime:
    """Aware UTC datetime from ISO 8601 with an offset (or Z), or epoch seconds."""
    if isinstance(value, str):
        text = value.strip()
        if _EPOCH.fullmatch(text):
            return _from_epoch(float(text), field)
        return _from_iso(text, field)
    if type(value) is int or type(value) is float:
        return _from_epoch(value, field)
    raise RowError(field, f"'{field}' must be an ISO 8601 timestamp or epoch seconds")


def as_duration(value: object, field: str = "duration") -> int:
    """Positive whole seconds from a number, a numeric string or an ISO 8601 duration."""
    if isinstance(value, str):
        text = value.strip()
        seconds = _iso_duration(text, field) if text.startswith(("P", "-P")) else None
        if seconds is None:
            seconds = _whole_seconds(as_number(text, field), field)
    else:
        seconds = _whole_seconds(as_number(value, field), field)
    if seconds <= 0:
        raise RowError(field, f"duration must be positive, got {seconds} s")
    if seconds > MAX_DURATION_S:
        raise RowError(field, f"duration is at most {MAX_DURATION_S} s (366 days), got {seconds}")
    return seconds


def check_magnitude(value: float, unit: str, field: str = "value") -> float:
    """A converted value must stay finite and within MAX_MAGNITUDE of zero."""
    if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:  # also false for NaN
        raise RowError(field, f"{value!r} {unit} is beyond the accepted ±{MAX_MAGNITUDE:g} {unit}")
    return value


def check_not_past(moment: datetime, field: str) -> None:
    """Reject a timestamp before EARLIEST."""
    if moment < EARLIEST:
        raise RowError(field, f"'{field}' {moment.isoformat()} is before {EARLIEST.isoformat()}")


def check_not_future(moment: datetime, limit: datetime, field: str) -> None:
    """Reject a timestamp more than MAX_FUTURE after now (``limit`` = now + MAX_FUTURE)."""
    if moment > limit:
        raise RowError(field, f"'{field}' {moment.isoformat()} is more than a day in the future")


def future_limit(now: datetime) -> datetime:
    """The latest acceptable timestamp for a batch parsed at ``now`` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC) + MAX_FUTURE


def _to_float(value: int | str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise RowError(field, f"not a number: {value!r}") from None
    except OverflowError:
        raise RowError(field, "number out of range") from None


def _from_iso(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(field, f"not an ISO 8601 timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise RowError(field, f"timestamp {text!r} needs a UTC offset, e.g. 'Z' or '+01:00'")
    return moment.astimezone(UTC)


def _from_epoch(seconds: float, field: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise RowError(field, f"epoch timestamp out of range: {seconds!r}") from None


def _whole_seconds(number: float, field: str) -> int:
    if not number.is_integer():
        raise RowError(field, f"duration must be whole seconds, got {number!r}")
    return int(number)


def _iso_duration(text: str, field: str) -> int:
    if text.startswith("-"):
        raise RowError(field, f"duration must be positive, got {text!r}")
    match = _ISO_DURATION.fullmatch(text)
    if match is None or not any(match.groupdict().values()) or text.endswith("T"):
        if "Y" in text or "M" in text.partition("T")[0]:
            raise RowError(field, "years and months vary in length: send seconds or 'end'")
        raise RowError(field, f"not a duration: {text!r} (use seconds or e.g. 'PT1H')")
    return sum(int(n) * _SECONDS[unit] for unit, n in match.groupdict().items() if n)
