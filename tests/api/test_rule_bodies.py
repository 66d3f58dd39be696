"""The bodies of POST /v1/rules and PATCH /v1/rules/{key} are typed and strict, and the OpenAPI
document describes them: what the document allows reaches the rule service (which may still
refuse what one field says about another, or a condition that does not compile), and a value
of the wrong JSON type is a 422 naming its path, never guessed."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis import GenerationMode

from engine.catalog.schemas import (
    RuleCreate,
    RuleLatePolicy,
    RuleParameter,
    RuleRearm,
    RuleUpdate,
)
from rules.params import ParameterSpec
from rules.schema import LatePolicy, RearmPolicy, RuleDefinition
from tests.api.conftest import FrozenApi
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish

LIMIT = DAILY_ENERGY["parameters"][0]
# Each was stored before, converted: a string, a number or a boolean where another type is due.
LOOSE: list[tuple[dict[str, Any], str]] = [
    ({"requires_ack": "true"}, "body.requires_ack"),
    ({"requires_ack": 1}, "body.requires_ack"),
    ({"baseline_windows": "4"}, "body.baseline_windows"),
    ({"baseline_windows": True}, "body.baseline_windows"),
    ({"escalation_delay_minutes": "60"}, "body.escalation_delay_minutes"),
    ({"parameters": [{**LIMIT, "min": "0.5"}]}, "body.parameters.0.min"),
    ({"parameters": [{**LIMIT, "max": True}]}, "body.parameters.0.max"),
    ({"rearm": {"mode": "once_per_window", "hysteresis": "1"}}, "body.rearm.hysteresis"),
    ({"late_policy": {"notify_within_hours": "6"}}, "body.late_policy.notify_within_hours"),
    ({"late_policy": {"notify_within_hours": False}}, "body.late_policy.notify_within_hours"),
]


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


def test_loose_types_are_refused_naming_the_field(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    for change, field in LOOSE:
        problem = api.problem("POST", "/v1/rules", tenant.ops, 422, json={**DAILY_ENERGY, **change})
        assert _fields(problem) == [field], (change, problem)
    assert api.ok("GET", "/v1/rules", tenant.ops) == []

    publish(api, tenant, DAILY_ENERGY)
    path = "/v1/rules/energy.daily_above"
    for change, field in LOOSE:
        assert _fields(api.problem("PATCH", path, tenant.ops, 422, json=change)) == [field]
    draft = api.ok("GET", path, tenant.ops)["draft"]
    assert draft == api.ok("GET", path, tenant.ops)["versions"][0]["definition"]


def test_a_patch_takes_null_only_where_the_definition_does(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    path = "/v1/rules/energy.daily_above"
    for name in ("title", "condition", "parameters", "requires_ack", "rearm", "kind"):
        assert _fields(api.problem("PATCH", path, tenant.ops, 422, json={name: None})) == [
            f"body.{name}"
        ]
    event_rule = {
        "kind": "event",
        "event_type": "bill.issued",
        "metric": None,
        "window": None,
        "aggregate": None,
        "condition": "true",
        "parameters": [],
    }
    changed = api.ok("PATCH", path, tenant.ops, json=event_rule)["draft"]
    assert (changed["kind"], changed["metric"], changed["window"]) == ("event", None, None)


def test_json_numbers_keep_their_meaning(frozen: FrozenApi) -> None:
    """A whole number is a JSON Schema integer whether written 4 or 4.0; an int default stays
    an int and a double bound a double."""
    api = frozen.api
    tenant = api.tenant()
    body = {**DAILY_ENERGY, "baseline_windows": 6.0, "requires_ack": True}
    draft = api.ok("POST", "/v1/rules", tenant.ops, 201, json=body)["draft"]
    assert draft["baseline_windows"] == 6 and isinstance(draft["baseline_windows"], int)
    assert draft["requires_ack"] is True
    assert draft["parameters"][0]["default"] == 12
    assert isinstance(draft["parameters"][0]["default"], int)
    assert draft["parameters"][0]["max"] == 500.0


def test_a_default_past_int64_is_a_422_not_a_500(api: Api) -> None:
    """10**400 has no double: converting it raised OverflowError inside the definition."""
    tenant = api.tenant()
    body = {**DAILY_ENERGY, "parameters": [{**LIMIT, "default": 10**400}]}
    problem = api.problem("POST", "/v1/rules", tenant.ops, 422, json=body)
    assert _fields(problem)[0].startswith("body.parameters.0.default"), problem


def test_a_nul_character_is_a_422_naming_the_field(api: Api) -> None:
    """PostgreSQL cannot store U+0000 in text or JSON: it was a 500 there, stored on SQLite."""
    tenant = api.tenant()
    texts = [
        ({"title": {"en": "a\x00b"}}, "body.title.en"),
        ({"condition": 'window.sum > params.limit_kwh || "\x00" == ""'}, "body.condition"),
        ({"parameters": [{**LIMIT, "unit": "k\x00Wh"}]}, "body.parameters.0.unit"),
    ]
    for change, field in texts:
        problem = api.problem("POST", "/v1/rules", tenant.ops, 422, json={**DAILY_ENERGY, **change})
        assert _fields(problem) == [field], problem
    publish(api, tenant, DAILY_ENERGY)
    for change, field in texts:
        path = "/v1/rules/energy.daily_above"
        assert _fields(api.problem("PATCH", path, tenant.ops, 422, json=change)) == [field]


def _schema(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def _types(node: dict[str, Any]) -> set[str]:
    return {n["type"] for n in node.get("anyOf", [node]) if "type" in n}


def test_the_document_describes_the_rule_bodies(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    create = _schema(document, "/v1/rules", "post")
    assert set(create["required"]) == {"key", "title", "topic", "kind", "template_key"}
    assert create["additionalProperties"] is False
    fields = create["properties"]
    assert fields["requires_ack"]["type"] == "boolean"
    assert fields["escalation_delay_minutes"]["format"] == "double"
    assert (
        fields["escalation_delay_minutes"]["exclusiveMinimum"],
        fields["escalation_delay_minutes"]["maximum"],
    ) == (0, 10080)
    assert (fields["baseline_windows"]["type"], fields["baseline_windows"]["maximum"]) == (
        "integer",
        366,
    )
    assert fields["condition"]["format"] == "cel" and fields["condition"]["maxLength"] == 4000
    assert fields["kind"]["enum"] == ["threshold", "event", "schedule"]
    assert fields["title"]["minProperties"] == 1
    assert fields["title"]["additionalProperties"] is False
    assert _types(fields["metric"]) == {"string", "null"}

    parameter = document["components"]["schemas"]["RuleParameter"]
    assert set(parameter["properties"]) == {
        "name",
        "type",
        "unit",
        "min",
        "max",
        "default",
        "label",
    }
    assert _types(parameter["properties"]["default"]) == {
        "integer",
        "number",
        "boolean",
        "string",
        "null",
    }
    assert parameter["properties"]["type"]["enum"] == [
        "double",
        "int",
        "string",
        "bool",
        "time",
        "duration",
    ]

    update = _schema(document, "/v1/rules/{key}", "patch")
    assert "required" not in update and update["additionalProperties"] is False
    assert set(update["properties"]) == set(fields)
    assert _types(update["properties"]["requires_ack"]) == {"boolean"}
    assert _types(update["properties"]["title"]) == {"object"}
    assert _types(update["properties"]["metric"]) == {"string", "null"}


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: info.get_default(call_default_factory=True)
        for name, info in model.model_fields.items()
        if not info.is_required()
    }


def _dumped(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def test_the_bodies_keep_in_step_with_the_definition() -> None:
    """Each body model has the definition's fields with the definition's defaults."""
    pairs: list[tuple[type[BaseModel], type[BaseModel]]] = [
        (RuleCreate, RuleDefinition),
        (RuleParameter, ParameterSpec),
        (RuleRearm, RearmPolicy),
        (RuleLatePolicy, LatePolicy),
    ]
    for body, model in pairs:
        assert set(body.model_fields) == set(model.model_fields), body
        mine = {k: _dumped(v) for k, v in _defaults(body).items()}
        theirs = {k: _dumped(v) for k, v in _defaults(model).items()}
        assert mine == {k: list(v) if isinstance(v, tuple) else v for k, v in theirs.items()}
    assert set(RuleUpdate.model_fields) == set(RuleDefinition.model_fields)


def _operation(api: Api, path: str, method: str) -> Any:
    document = api.client.get("/openapi.json").json()
    return schemathesis.openapi.from_dict(document)[path][method]


# The rule service's own refusals: one field against another, CEL, the key of a PATCH.
SERVICE_SAYS = (
    "the rule definition is invalid: ",
    "condition does not compile at ",
    "a rule's key cannot change",
)


def _reached_the_service(response: Any) -> bool:
    """Stored, a conflict, or a 422 from the rule service's own checks (never the body's)."""
    if response.status_code in (200, 201, 409):
        return True
    problem = response.json()
    said = problem.get("detail", "").startswith(SERVICE_SAYS)
    kinds = {error["type"] for error in problem.get("errors", [])}
    return response.status_code == 422 and said and kinds <= {"value_error", "cel_error"}


def test_what_the_document_allows_reaches_the_service(api: Api) -> None:
    """Bodies generated from the document (schemathesis, positive data): none is refused for
    its shape or types, so the document asks no less than the body models; some are stored."""
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    statuses: list[int] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=_operation(api, "/v1/rules", "POST"))
    def create(case: Any) -> None:
        response = api.client.post("/v1/rules", headers=tenant.ops, json=case.body)
        assert _reached_the_service(response), (case.body, response.text)
        statuses.append(response.status_code)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=_operation(api, "/v1/rules/{key}", "PATCH"))
    def update(case: Any) -> None:
        path = "/v1/rules/energy.daily_above"
        response = api.client.patch(path, headers=tenant.ops, json=case.body)
        assert _reached_the_service(response), (case.body, response.text)
        statuses.append(response.status_code)

    create()
    update()
    assert {200, 201} <= set(statuses), statuses


def _operation(api: Api, path: str, method: str) -> st.SearchStrategy[Any]:
    document = api.client.get("/openapi.json").json()
    operation = schemathesis.openapi.from_dict(document)[path][method]
    strategy: st.SearchStrategy[Any] = operation.as_strategy(
        generation_mode=GenerationMode.POSITIVE
    )
    return strategy
