"""A rule's texts have documented maximum lengths, as templates' parts do: a title 200
characters per language, a description 2,000, a parameter's label 200, each in at most 100
languages. Longer is a 422 naming the field (``body.title.en``) with nothing stored (the
console's rule form: test_console_rule_text_limits.py); texts at the limit, and every rule
nudge ships, are taken."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.catalog.schemas import (
    MAX_DESCRIPTION_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_LANGUAGES,
    MAX_TITLE_LENGTH,
    RuleCreate,
)
from engine.processes.demo import rules as demo_rules
from tests.fixtures import rules as fixture_rules
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish

KEY = DAILY_ENERGY["key"]
LIMIT = DAILY_ENERGY["parameters"][0]
LANGUAGES = [f"x{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(MAX_LANGUAGES + 1)]
TOO_LONG: dict[str, tuple[dict[str, Any], str]] = {
    "title": ({"title": {"en": "t" * (MAX_TITLE_LENGTH + 1)}}, "body.title.en"),
    "huge title": ({"title": {"en": "t" * 100_000}}, "body.title.en"),
    "description": (
        {"description": {"de": "d" * (MAX_DESCRIPTION_LENGTH + 1)}},
        "body.description.de",
    ),
    "label": (
        {"parameters": [{**LIMIT, "label": {"en": "l" * (MAX_LABEL_LENGTH + 1)}}]},
        "body.parameters.0.label.en",
    ),
    "languages": ({"title": dict.fromkeys(LANGUAGES, "Title")}, "body.title"),
}
AT_THE_LIMIT = {
    "title": {"en": "t" * MAX_TITLE_LENGTH, "de": "ü" * MAX_TITLE_LENGTH},
    "description": {"en": "d" * MAX_DESCRIPTION_LENGTH},
    "parameters": [{**LIMIT, "label": {"en": "l" * MAX_LABEL_LENGTH}}],
}


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


@pytest.mark.parametrize("case", TOO_LONG)
def test_a_text_over_its_limit_is_refused_naming_the_field(api: Api, case: str) -> None:
    change, field = TOO_LONG[case]
    tenant = api.tenant()
    problem = api.problem("POST", "/v1/rules", tenant.ops, 422, json={**DAILY_ENERGY, **change})
    assert _fields(problem) == [field], problem
    assert api.ok("GET", "/v1/rules", tenant.ops) == []

    publish(api, tenant, DAILY_ENERGY)
    before = api.ok("GET", f"/v1/rules/{KEY}", tenant.ops)["draft"]
    problem = api.problem("PATCH", f"/v1/rules/{KEY}", tenant.ops, 422, json=change)
    assert _fields(problem) == [field], problem
    assert api.ok("GET", f"/v1/rules/{KEY}", tenant.ops)["draft"] == before


def test_texts_at_their_limits_are_taken(api: Api) -> None:
    tenant = api.tenant()
    created = api.ok("POST", "/v1/rules", tenant.ops, 201, json={**DAILY_ENERGY, **AT_THE_LIMIT})
    assert created["draft"]["title"] == AT_THE_LIMIT["title"]
    assert created["draft"]["description"] == AT_THE_LIMIT["description"]
    many = dict.fromkeys(LANGUAGES[:MAX_LANGUAGES], "Title")
    patched = api.ok("PATCH", f"/v1/rules/{KEY}", tenant.ops, json={"title": many})
    assert len(patched["draft"]["title"]) == MAX_LANGUAGES


def _longest(schema: dict[str, Any]) -> int:
    """The maxLength of the texts of a by-language object schema (null left aside)."""
    [text] = [v for v in (schema, *schema.get("anyOf", [])) if v.get("type") == "object"]
    [value] = text["patternProperties"].values()
    assert text["maxProperties"] == MAX_LANGUAGES
    length: int = value["maxLength"]
    return length


def test_the_document_states_the_limits(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("RuleCreate", "RuleUpdate"):
        fields = schemas[name]["properties"]
        assert _longest(fields["title"]) == MAX_TITLE_LENGTH
        assert _longest(fields["description"]) == MAX_DESCRIPTION_LENGTH
    assert _longest(schemas["RuleParameter"]["properties"]["label"]) == MAX_LABEL_LENGTH


def test_every_rule_nudge_ships_fits() -> None:
    shipped = [
        value
        for module in (demo_rules, fixture_rules)
        for value in vars(module).values()
        if isinstance(value, dict) and "title" in value and "template_key" in value
    ]
    assert len(shipped) >= 3
    for rule in shipped:
        RuleCreate.model_validate(rule)
