"""The OpenAPI document says what the API does, and /docs works without a network."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.api import Api

PROBLEM = "application/problem+json"


def _document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    field: dict[str, Any] = schema["properties"][name]
    for variant in field.get("anyOf", []):
        if variant.get("type") != "null":
            return {**field, **variant}
    return field


def test_operations_declare_bearer_security_and_their_error_statuses(client: TestClient) -> None:
    document = _document(client)
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")

    me = document["paths"]["/v1/me"]["get"]
    assert me["security"] == [{"bearer": []}]
    assert {"401", "403", "429", "500", "503"} <= set(me["responses"])
    create = document["paths"]["/v1/customers"]["post"]
    assert {"400", "409", "413", "422"} <= set(create["responses"])
    one = document["paths"]["/v1/customers/{customer_id}"]["get"]
    assert "404" in one["responses"]
    for operation in (me, create, one):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == [PROBLEM], (status, response)
    assert "Retry-After" in create["responses"]["503"]["headers"]
    assert "security" not in document["paths"]["/healthz"]["get"]


def test_formats_and_patterns_of_contact_points_zones_locales_and_cursors(
    client: TestClient,
) -> None:
    document = _document(client)
    customer = _schema(document, "CustomerCreate")
    assert _field(customer, "email")["format"] == "email"
    phone = _field(customer, "phone")
    assert phone["format"] == "e164" and re.fullmatch(phone["pattern"], "+4915112345678")
    assert _field(customer, "timezone")["format"] == "iana-timezone"
    locale = _field(customer, "locale")
    assert locale["format"] == "bcp47" and re.fullmatch(locale["pattern"], "de-AT")
    listing = document["paths"]["/v1/customers"]["get"]
    [cursor] = [p for p in listing["parameters"] if p["name"] == "cursor"]
    assert "pattern" in cursor["schema"]["anyOf"][0]


def test_booleans_are_json_booleans(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    token = api.token(tenant, customer["id"])
    for value in ("yes", "true", 1, "on"):
        body = {"channel": "email", "granted": value}
        problem = api.problem("POST", "/v1/me/consents", token, 422, json=body)
        assert problem["errors"][0]["field"] == "body.granted"
    api.ok("POST", "/v1/me/consents", token, json={"channel": "email", "granted": True})


def test_docs_load_everything_from_this_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert "/openapi.json" in page.text
