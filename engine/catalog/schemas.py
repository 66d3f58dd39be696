"""Shapes of rules as ops staff see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    MISSING,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)

from engine.errors import FieldError, InvalidInput
from engine.models import RuleStatus
from engine.platform.validation import EARLIEST, MAX_MAGNITUDE, RequestModel, TimezoneName
from rules.aggregates import AggregateName
from rules.params import MAX_STRING_LENGTH, ParamType
from rules.schema import MAX_CONDITION_LENGTH, CapPolicy, RearmMode, RuleKind, Urgency
from rules.windows import WindowKind


class RuleVersionPublic(BaseModel):
    version: int
    published_at: datetime
    definition: dict[str, Any]


class RulePublic(BaseModel):
    key: str
    status: RuleStatus
    draft: dict[str, Any]
    latest_version: int
    created_at: datetime
    updated_at: datetime
    versions: list[RuleVersionPublic] = Field(default_factory=list)


LATEST_SAMPLE = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)


class BacktestReading(RequestModel):
    start: AwareDatetime = Field(description="from 1970-01-01 to the end of 2199")
    duration: int = Field(gt=0, le=366 * 86400, description="seconds")
    value: float = Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)

    @field_validator("start")
    @classmethod
    def _in_range(cls, start: datetime) -> datetime:
        if not EARLIEST <= start <= LATEST_SAMPLE:
            raise ValueError(f"start must be from {EARLIEST.date()} to {LATEST_SAMPLE.date()}")
        return start


class BacktestRequest(RequestModel):
    params: dict[str, Any] = Field(default_factory=dict)
    customer_id: str | None = None
    readings: list[BacktestReading] | None = Field(default=None, max_length=200_000)
    timezone: TimezoneName | None = None
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="published version; default the draft"
    )


# The bodies of POST /v1/rules and PATCH /v1/rules/{key}: the definition's fields, each with
# its JSON type (booleans and numbers strict: "true", 1 and "12" are refused, not guessed).
# `rules.schema.RuleDefinition` then checks what one field says about another and the CEL
# condition compiles; tests/api/test_rule_bodies.py keeps the two in step.
DOTTED = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
LOCALE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
PARAMETER_NAME = r"^[a-z][a-z0-9_]{0,62}$"
NO_NUL = r"^[^\x00]*$"  # PostgreSQL's text and JSON cannot hold U+0000
# A rule's texts are shown on the customer's page, in messages and in every answer about it:
# bounded per language as templates' parts are (a title fits a subject line).
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
MAX_LABEL_LENGTH = 200
MAX_LANGUAGES = 100


def _whole_number(value: object) -> object:
    """JSON Schema's integer: 4.0 is the integer 4; strings, booleans and 4.5 stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Text = Annotated[str, Field(pattern=NO_NUL)]
Double = Annotated[float, Strict(), Field(json_schema_extra={"format": "double"})]
Language = Annotated[str, Field(pattern=LOCALE, max_length=35)]


def _by_language(length: int, what: str, example: dict[str, str]) -> Any:
    """A text by BCP 47 language tag: at most ``length`` characters each, in at most
    ``MAX_LANGUAGES`` languages (shown on pages, in messages and in answers)."""
    return Field(
        max_length=MAX_LANGUAGES,
        description=f"{what} by BCP 47 language tag, at most {length} characters each, in at "
        f"most {MAX_LANGUAGES} languages",
        examples=[example],
        json_schema_extra={"additionalProperties": False},
    )


Title = Annotated[
    dict[Language, Annotated[Text, Field(max_length=MAX_TITLE_LENGTH)]],
    _by_language(
        MAX_TITLE_LENGTH,
        "the title",
        {"en": "Daily electricity use above a limit", "de": "Täglicher Verbrauch"},
    ),
    Field(min_length=1),
]
Description = Annotated[
    dict[Language, Annotated[Text, Field(max_length=MAX_DESCRIPTION_LENGTH)]],
    _by_language(
        MAX_DESCRIPTION_LENGTH,
        "the description",
        {"en": "Tells you when a day's use passes the limit you set."},
    ),
]
Label = Annotated[
    dict[Language, Annotated[Text, Field(max_length=MAX_LABEL_LENGTH)]],
    _by_language(MAX_LABEL_LENGTH, "the label", {"en": "Limit", "de": "Grenze"}),
]
RuleKeyText = Annotated[str, Field(pattern=DOTTED, max_length=120, examples=["energy.daily_above"])]
Topic = Annotated[str, Field(pattern=NAME, max_length=80, examples=["energy"])]
WatchedName = Annotated[str, Field(pattern=NAME, max_length=80)]
Condition = Annotated[
    str,
    Field(
        pattern=NO_NUL,
        min_length=1,
        max_length=MAX_CONDITION_LENGTH,
        description="CEL over params, window, previous, baseline, event, customer and now; "
        "compiled and type-checked when saved",
        examples=["window.sum > params.limit_kwh"],
        json_schema_extra={"format": "cel"},
    ),
]
TemplateKey = Annotated[str, Field(pattern=NAME, max_length=120, examples=["energy.daily_above"])]
# Constraints before the validator, so that the document shows them as minimum and maximum.
BaselineWindows = Annotated[
    int,
    Strict(),
    Field(ge=1, le=366, json_schema_extra={"format": "int32"}),
    BeforeValidator(_whole_number),
]
Hours = Annotated[Double, Field(ge=0)]
EscalationMinutes = Annotated[Double, Field(gt=0, le=7 * 24 * 60)]
# A parameter's default, of the parameter's type (checked with its bounds by the definition).
# Whole numbers within int64, as the document says (10**400 has no double to become).
Int64 = Annotated[
    StrictInt, Field(ge=-(2**63), le=2**63 - 1, json_schema_extra={"format": "int64"})
]
ParameterDefault = (
    Int64 | Double | StrictBool | Annotated[Text, Field(max_length=MAX_STRING_LENGTH)] | None
)


class RuleBody(RequestModel):
    """A part of a rule body: texts are kept as sent (a condition's spaces are its own)."""

    model_config = ConfigDict(str_strip_whitespace=False)


class RuleParameter(RuleBody):
    """One value the customer fills in. ``min``/``max`` apply to double, int and duration;
    ``default`` is of the parameter's type (a duration also as ``"90m"``, a time as ``"HH:MM"``);
    without a default the customer must give a value."""

    name: str = Field(pattern=PARAMETER_NAME, description="read in the condition as params.NAME")
    type: ParamType
    unit: Annotated[Text, Field(max_length=32, examples=["kWh"])] | None = None
    min: Double | None = None
    max: Double | None = None
    default: ParameterDefault = None
    label: Label = Field(default_factory=dict)


class RuleRearm(RuleBody):
    """When a fired threshold trigger may fire again: in the next window, or once the value
    leaves the range again (``on_leave``, non-cumulative aggregates, optional hysteresis)."""

    mode: RearmMode = "once_per_window"
    hysteresis: Hours | None = None


class RuleLatePolicy(RuleBody):
    """How long after its window's end a condition that turns true still notifies (null:
    always); later ones are recorded as suppressed."""

    notify_within_hours: Hours | None = None


_RULE_EXAMPLE: dict[str, Any] = {
    "key": "energy.daily_high",
    "title": {"en": "Daily electricity use above a limit"},
    "topic": "energy",
    "kind": "threshold",
    "metric": "electricity.consumption",
    "window": "day",
    "aggregate": "sum",
    "parameters": [
        {
            "name": "limit_kwh",
            "type": "double",
            "unit": "kWh",
            "min": 0.5,
            "max": 200,
            "default": 12,
            "label": {"en": "Limit"},
        }
    ],
    "condition": "window.sum > params.limit_kwh",
    "template_key": "energy.daily_above",
}


class RuleCreate(RuleBody):
    """A rule definition. Threshold rules watch a ``metric`` in a ``window`` with an
    ``aggregate``; event and schedule rules an ``event_type`` (schedule rules need the
    parameters ``days_before`` and ``local_time``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RULE_EXAMPLE]})

    key: RuleKeyText
    title: Title
    description: Description = Field(default_factory=dict)
    topic: Topic
    kind: RuleKind
    metric: WatchedName | None = Field(default=None, examples=["electricity.consumption"])
    event_type: WatchedName | None = Field(default=None, examples=["bill.issued"])
    window: WindowKind | None = None
    aggregate: AggregateName | None = None
    baseline_windows: BaselineWindows = 4
    parameters: list[RuleParameter] = Field(default_factory=list)
    condition: Condition = "true"
    urgency: Urgency = "normal"
    rearm: RuleRearm = Field(default_factory=RuleRearm)
    late_policy: RuleLatePolicy = Field(default_factory=RuleLatePolicy)
    template_key: TemplateKey
    requires_ack: StrictBool = False
    escalation_delay_minutes: EscalationMinutes = 60.0
    cap_policy: CapPolicy = "defer"


class RuleUpdate(RuleBody):
    """Changes to the draft: the fields given replace the draft's (``rearm``, ``late_policy``,
    ``title`` and ``parameters`` as a whole); null only where the definition allows it. The key
    cannot change."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"condition": "window.sum >= params.limit_kwh"}]}
    )

    key: RuleKeyText | MISSING = MISSING
    title: Title | MISSING = MISSING
    description: Description | MISSING = MISSING
    topic: Topic | MISSING = MISSING
    kind: RuleKind | MISSING = MISSING
    metric: WatchedName | None | MISSING = MISSING
    event_type: WatchedName | None | MISSING = MISSING
    window: WindowKind | None | MISSING = MISSING
    aggregate: AggregateName | None | MISSING = MISSING
    baseline_windows: BaselineWindows | MISSING = MISSING
    parameters: list[RuleParameter] | MISSING = MISSING
    condition: Condition | MISSING = MISSING
    urgency: Urgency | MISSING = MISSING
    rearm: RuleRearm | MISSING = MISSING
    late_policy: RuleLatePolicy | MISSING = MISSING
    template_key: TemplateKey | MISSING = MISSING
    requires_ack: StrictBool | MISSING = MISSING
    escalation_delay_minutes: EscalationMinutes | MISSING = MISSING
    cap_policy: CapPolicy | MISSING = MISSING


Body = TypeVar("Body", RuleCreate, RuleUpdate)


def rule_body(model: type[Body], data: dict[str, Any]) -> Body:
    """``data`` checked as the JSON API checks the body of ``POST /v1/rules`` (RuleCreate) or
    ``PATCH /v1/rules/{key}`` (RuleUpdate), for a door other than the JSON API (the console's
    form): InvalidInput naming each field (``body.parameters.0.min``) otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> InvalidInput:
    errors = [
        FieldError(("body", *e["loc"]), e["msg"].removeprefix("Value error, "), e["type"])
        for e in exc.errors()
    ]
    shown = "; ".join(f"{'.'.join(map(str, f.loc[1:]))}: {f.msg}" for f in errors[:5])
    return InvalidInput(f"the rule is invalid: {shown}", errors)
