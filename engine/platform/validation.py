"""Annotated field types that validate what SPEC §8 lists: phones, emails, zones, locales."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

# The tz database's zones, without the host's own ("localtime") and placeholder ones.
_ZONES = frozenset(available_timezones()) - {"localtime", "Factory", "posixrules"}
_LOCALE_SHAPE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def check_timezone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError(f"unknown IANA timezone {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA timezone {value!r}") from exc
    return value


def check_locale(value: str) -> str:
    """A BCP 47 tag Babel knows (``de-AT``), returned in canonical case."""
    if not _LOCALE_SHAPE.match(value):
        raise ValueError(f"not a BCP 47 language tag: {value!r}")
    try:
        locale = Locale.parse(value, sep="-")
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"unknown locale {value!r}") from exc
    return "-".join(p for p in (locale.language, locale.script, locale.territory) if p)


def check_phone(value: str) -> str:
    """An E.164 number (``+4915112345678``) that is possible and valid."""
    if not value.startswith("+"):
        raise ValueError("phone numbers must be in E.164 form, starting with +")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


def check_local_time(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"expected a local time HH:MM, got {value!r}")
    return value


TimezoneName = Annotated[
    str,
    Field(
        max_length=64,
        description="an IANA tz database zone",
        examples=["Europe/Berlin"],
        json_schema_extra={"format": "iana-timezone"},
    ),
    AfterValidator(check_timezone),
]
LocaleTag = Annotated[
    str,
    Field(
        max_length=35,
        description="a BCP 47 language tag",
        examples=["de-AT"],
        json_schema_extra={"format": "bcp47", "pattern": _LOCALE_SHAPE.pattern},
    ),
    AfterValidator(check_locale),
]
PhoneNumber = Annotated[
    str,
    Field(
        max_length=32,
        description="E.164, normalised on input",
        examples=["+4915112345678"],
        json_schema_extra={"format": "e164", "pattern": r"^\+[1-9]\d{6,14}$"},
    ),
    AfterValidator(check_phone),
]
EmailAddress = Annotated[
    str,
    Field(max_length=320, examples=["ada@example.com"], json_schema_extra={"format": "email"}),
    AfterValidator(check_email),
]
# JSON true or false only: "yes", 1 and "true" are refused, not guessed.
Flag = Annotated[bool, Strict()]
LocalTime = Annotated[
    str,
    Field(max_length=5, examples=["21:00"], json_schema_extra={"pattern": _HHMM.pattern}),
    AfterValidator(check_local_time),
]


# Bounds on values from outside, checked where they enter (feeds, back-test samples).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MAGNITUDE = 1e12  # in the canonical unit (kWh, m³, therm, minor units of money, count)

MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_DEPTH = 4
# What a rule's condition may iterate over is bounded here (see `rules.cost`).
MAX_JSON_LIST = 100
MAX_JSON_STRING = 1000
# And in total: a condition reads the whole object each time it runs, so its conversion is
# part of every evaluation's cost (100 × 100 × 10 strings took 53 ms where these take < 1 ms).
MAX_JSON_VALUES = 1000
MAX_JSON_CHARACTERS = 100_000


def json_size(value: object) -> tuple[int, int]:
    """How many values (containers included) and characters (keys and strings) a JSON value
    holds."""
    values, characters = 1, len(value) if isinstance(value, str) else 0
    if isinstance(value, dict):
        characters += sum(len(key) for key in value)
    if isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            more_values, more_characters = json_size(item)
            values += more_values
            characters += more_characters
    return values, characters


def json_size_problem(value: object) -> str | None:
    """Why a JSON value is too large as a whole, if it is."""
    values, characters = json_size(value)
    if values > MAX_JSON_VALUES:
        return f"holds {values} values in all, more than {MAX_JSON_VALUES}"
    if characters > MAX_JSON_CHARACTERS:
        return f"holds {characters} characters in all, more than {MAX_JSON_CHARACTERS}"
    return None


def _check_json_value(value: object, depth: int) -> None:
    if depth > MAX_ATTRIBUTE_DEPTH:
        raise ValueError(f"nested deeper than {MAX_ATTRIBUTE_DEPTH} levels")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ValueError("NaN and infinity are not allowed")
    if isinstance(value, str) and len(value) > MAX_JSON_STRING:
        raise ValueError(f"strings are at most {MAX_JSON_STRING} characters")
    if isinstance(value, list | dict) and len(value) > MAX_JSON_LIST:
        raise ValueError(f"lists and objects hold at most {MAX_JSON_LIST} items")
    if isinstance(value, dict):
        for item in value.values():
            _check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_value(item, depth + 1)


def check_json_object(value: dict[str, object]) -> dict[str, object]:
    if len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"at most {MAX_ATTRIBUTES} attributes")
    _check_json_value(value, 0)
    if problem := json_size_problem(value):
        raise ValueError(problem)
    return value


JSONObject = Annotated[dict[str, Any], AfterValidator(check_json_object)]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields and NaN/∞ are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)
