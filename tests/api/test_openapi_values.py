"""The document lists exactly the values the server accepts, and the server holds to what the
document says."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.api import Api


def _document(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def _variant(field: dict[str, Any]) -> dict[str, Any]:
    return next((v for v in field.get("anyOf", []) if v.get("type") != "null"), field)


def test_zones_and_locales_list_what_the_server_accepts(api: Api) -> None:
    schema = _document(api.client)["components"]["schemas"]["CustomerCreate"]["properties"]
    zones, locales = _variant(schema["timezone"])["enum"], _variant(schema["locale"])["enum"]
    assert "Pacific/Pago_Pago" in zones and "localtime" not in zones and "Factory" not in zones
    assert {"de-AT", "en", "zh-Hans-CN"} <= set(locales)
    tenant = api.tenant()
    for zone, locale in (("Pacific/Pago_Pago", "de-AT"), (zones[0], locales[0])):
        api.customer(tenant, timezone=zone, locale=locale)
    for body in ({"timezone": "localtime"}, {"locale": "xx-QQ"}):
        api.problem("POST", "/v1/customers", tenant.feed, 422, json=body)


def test_a_cursor_outside_its_pattern_is_refused_even_when_unused(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    for params in (
        {"cursor": "abc!"},
        {"cursor": "M\u0080", "external_id": customer["external_id"]},
    ):
        problem = api.problem("GET", "/v1/customers", tenant.ops, 422, params=params)
        assert problem["errors"][0]["field"] == "query.cursor"
    api.problem("GET", "/v1/notifications", tenant.ops, 422, params={"cursor": "a.b"})


def test_every_body_that_does_not_parse_is_a_documented_400(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    document = _document(api.client)
    path = "/v1/customers/{customer_id}"
    assert "400" in document["paths"][path]["patch"]["responses"]
    headers = {**tenant.ops, "Content-Type": "application/json"}
    response = api.client.patch(
        f"/v1/customers/{customer['id']}", headers=headers, content=b"\xff\xfe{"
    )
    assert response.status_code in (400, 422), response.text
    assert str(response.status_code) in document["paths"][path]["patch"]["responses"]


def test_a_green_button_feed_for_an_unknown_customer_is_a_documented_404(api: Api) -> None:
    tenant = api.tenant()
    operation = _document(api.client)["paths"]["/v1/feeds/greenbutton"]["post"]
    assert "application/problem+json" in operation["responses"]["404"]["content"]
    headers = {**tenant.feed, "Content-Type": "application/atom+xml"}
    response = api.client.post(
        "/v1/feeds/greenbutton", headers=headers, params={"customer": "nobody"}, content=b"<x/>"
    )
    assert response.status_code == 404, response.text


def test_a_feed_body_without_its_media_type_is_a_documented_415(api: Api) -> None:
    tenant = api.tenant()
    document = _document(api.client)
    for path in ("/v1/feeds/readings", "/v1/feeds/events"):
        response = api.client.post(path, headers=tenant.feed)
        assert response.status_code == 415, response.text
        assert (
            "application/problem+json"
            in document["paths"][path]["post"]["responses"]["415"]["content"]
        )


def test_a_pause_given_as_a_number_is_refused(api: Api) -> None:
    """Seconds since 1970 would pause nothing; the document says an ISO 8601 date-time."""
    tenant = api.tenant()
    token = api.token(tenant, api.customer(tenant)["id"])
    problem = api.problem("PATCH", "/v1/me/preferences", token, 422, json={"paused_until": 0})
    assert problem["errors"][0]["field"] == "body.paused_until"
    body = {"paused_until": "2026-12-24T18:00:00+01:00"}
    assert api.ok("PATCH", "/v1/me/preferences", token, json=body)["paused_until"]
