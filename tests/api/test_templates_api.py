"""Operations staff author message templates over the shipped defaults: checked when saved
(syntax, variables, sandbox, SMS segments), previewed with sample values, kept per tenant."""

from __future__ import annotations

from typing import Any

from tests.fixtures.api import Api, TenantHandle

KEY = "energy.daily_above"
SMS_DE = {
    "key": KEY,
    "channel": "sms",
    "locale": "de",
    "parts": {
        "text": "{{ customer.name }}: {{ window.sum|kwh }} (Limit {{ params.limit_kwh|kwh }})"
    },
}
EMAIL_EN = {
    "key": "water.leak",
    "channel": "email",
    "locale": "en",
    "parts": {
        "subject": "Water use {{ window.sum|unit('m³') }}",
        "text": "Hello {{ customer.name }},\nyour water use is {{ window.sum|unit('m³') }}.",
        "html": "<p>Hello {{ customer.name }}</p>",
    },
}


def create(api: Api, tenant: TenantHandle, body: dict[str, Any], expect: int = 201) -> Any:
    return api.ok("POST", "/v1/templates", tenant.ops, expect, json=body)


def rejected(api: Api, tenant: TenantHandle, parts: dict[str, str], **fields: Any) -> Any:
    body = {**SMS_DE, "key": "custom.alert", "parts": parts, **fields}
    return api.problem("POST", "/v1/templates", tenant.ops, 422, json=body)


def ids(items: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(t["key"], t["channel"], t["locale"], t["source"]) for t in items]


def test_create_list_get_patch_preview_round_trip(api: Api) -> None:
    tenant = api.tenant()
    created = create(api, tenant, EMAIL_EN)
    assert created["source"] == "tenant" and created["parts"] == EMAIL_EN["parts"]
    assert created["report"]["variables"] == ["customer", "window"]
    assert created["created_at"] == created["updated_at"]

    listed = ids(api.ok("GET", "/v1/templates", tenant.ops))
    assert ("water.leak", "email", "en", "tenant") in listed
    assert ("energy.daily_above", "sms", "de", "default") in listed

    patch = {"channel": "email", "locale": "en", "parts": {"subject": "Leak? {{ window.sum }}"}}
    patched = api.ok("PATCH", "/v1/templates/water.leak", tenant.ops, json=patch)
    assert patched["parts"] == {**EMAIL_EN["parts"], "subject": "Leak? {{ window.sum }}"}

    family = api.ok("GET", "/v1/templates/water.leak", tenant.ops)
    assert family["key"] == "water.leak" and [v["parts"] for v in family["variants"]] == [
        patched["parts"]
    ]
    preview = api.ok(
        "POST",
        "/v1/templates/water.leak/preview",
        tenant.ops,
        json={"channel": "email", "locale": "en-GB", "context": {"window": {"sum": 3.25}}},
    )
    assert (preview["locale"], preview["source"]) == ("en", "tenant")
    assert preview["subject"] == "Leak? 3.25"
    assert preview["text"] == "Hello Alex Morgan,\nyour water use is 3.25 m³."


def test_a_tenant_template_overrides_the_default_of_its_variant_only(api: Api) -> None:
    tenant = api.tenant()
    create(api, tenant, SMS_DE)
    variants = ids(api.ok("GET", f"/v1/templates/{KEY}", tenant.ops)["variants"])
    assert ("energy.daily_above", "sms", "de", "tenant") in variants
    assert ("energy.daily_above", "sms", "de", "default") not in variants
    assert ("energy.daily_above", "sms", "en", "default") in variants
    assert len(variants) == 6


def test_an_existing_variant_is_a_conflict_and_patch_needs_one(api: Api) -> None:
    tenant = api.tenant()
    create(api, tenant, SMS_DE)
    conflict = api.problem("POST", "/v1/templates", tenant.ops, 409, json=SMS_DE)
    assert "PATCH" in conflict["detail"]
    missing = {"channel": "voice", "locale": "de", "parts": {"text": "Hallo"}}
    api.problem("PATCH", f"/v1/templates/{KEY}", tenant.ops, 404, json=missing)


def test_preview_formats_for_a_german_customer(api: Api) -> None:
    tenant = api.tenant()
    body = {"channel": "sms", "locale": "de-DE", "context": {"params": {"limit_kwh": 12.5}}}
    preview = api.ok("POST", f"/v1/templates/{KEY}/preview", tenant.ops, json=body)
    assert (preview["requested_locale"], preview["locale"]) == ("de-DE", "de")
    assert preview["source"] == "default"
    assert "über Ihrem Limit von 12,5 kWh" in preview["text"]
    assert preview["report"]["sms"]["encoding"] == "GSM-7"


def test_preview_rejects_unknown_context_and_unknown_keys(api: Api) -> None:
    tenant = api.tenant()
    body = {"channel": "sms", "context": {"secrets": {}}}
    problem = api.problem("POST", f"/v1/templates/{KEY}/preview", tenant.ops, 422, json=body)
    assert problem["errors"][0]["field"] == "body.context"
    assert "secrets" in problem["errors"][0]["msg"]
    api.problem("POST", "/v1/templates/no.such/preview", tenant.ops, 404, json={"channel": "sms"})


def test_syntax_error_names_the_part_and_line(api: Api) -> None:
    tenant = api.tenant()
    problem = rejected(api, tenant, {"text": "Hallo\n{{ customer.name "})
    assert problem["type"].endswith("/template-invalid")
    assert [e["field"] for e in problem["errors"]] == ["body.parts.text"]
    assert problem["errors"][0]["msg"].startswith("text, line 2:")


def test_unknown_variable_is_rejected(api: Api) -> None:
    tenant = api.tenant()
    problem = rejected(api, tenant, {"text": "{{ tariff }} {{ customer.name }}"})
    assert problem["errors"][0]["type"] == "template_variable"
    assert "unknown variable 'tariff'" in problem["errors"][0]["msg"]


def test_sandbox_escape_is_rejected_and_nothing_is_stored(api: Api) -> None:
    tenant = api.tenant()
    problem = rejected(api, tenant, {"text": "{{ ''.__class__.__mro__ }}"})
    assert problem["type"].endswith("/template-unsafe")
    assert "'__class__' is not allowed" in problem["detail"]
    api.problem("GET", "/v1/templates/custom.alert", tenant.ops, 404)
    assert all(t["source"] == "default" for t in api.ok("GET", "/v1/templates", tenant.ops))


def test_missing_and_extra_parts_are_named(api: Api) -> None:
    tenant = api.tenant()
    parts = {"text": "Hi", "subject": "Hi", "footer": "x"}
    problem = rejected(api, tenant, parts, channel="email")
    assert {(e["field"], e["type"]) for e in problem["errors"]} == {
        ("body.parts.footer", "unknown"),
        ("body.parts.html", "missing"),
    }
    sms = rejected(api, tenant, {"text": "Hi", "subject": "Hi"})
    assert [e["field"] for e in sms["errors"]] == ["body.parts.subject"]
    patch = {"channel": "sms", "locale": "de", "parts": {"html": "<p>"}}
    create(api, tenant, SMS_DE)
    api.problem("PATCH", f"/v1/templates/{KEY}", tenant.ops, 422, json=patch)


def test_bad_channel_and_locale_are_rejected(api: Api) -> None:
    tenant = api.tenant()
    fax = rejected(api, tenant, {"text": "Hi"}, channel="fax")
    assert [e["field"] for e in fax["errors"]] == ["body.channel"]
    locale = rejected(api, tenant, {"text": "Hi"}, locale="xx-not-a-tag")
    assert [e["field"] for e in locale["errors"]] == ["body.locale"]


def test_sms_report_counts_gsm7_and_ucs2_segments(api: Api) -> None:
    tenant = api.tenant()
    plain = create(api, tenant, {**SMS_DE, "parts": {"text": "Strom: {{ window.sum|kwh }}"}})
    sms = plain["report"]["sms"]
    assert (sms["encoding"], sms["segments"], sms["characters"]) == ("GSM-7", 1, 15)
    assert plain["report"]["warnings"] == []

    long_emoji = "⚡ " + "Ihr Verbrauch ist hoch. " * 4 + "{{ window.sum|kwh }}"
    body = {**SMS_DE, "locale": "de-AT", "parts": {"text": long_emoji}}
    emoji = create(api, tenant, body)["report"]
    assert emoji["sms"]["encoding"] == "UCS-2" and emoji["sms"]["segments"] == 2
    assert [w["type"] for w in emoji["warnings"]] == ["sms_encoding"]
    assert "⚡" in emoji["warnings"][0]["msg"]


def test_another_tenant_can_neither_see_nor_change_them(api: Api) -> None:
    owner, other = api.tenant("Owner"), api.tenant("Other")
    create(api, owner, EMAIL_EN)
    api.problem("GET", "/v1/templates/water.leak", other.ops, 404)
    patch = {"channel": "email", "locale": "en", "parts": {"subject": "Hijacked"}}
    api.problem("PATCH", "/v1/templates/water.leak", other.ops, 404, json=patch)
    preview = {"channel": "email", "locale": "en"}
    api.problem("POST", "/v1/templates/water.leak/preview", other.ops, 404, json=preview)
    assert "water.leak" not in {t["key"] for t in api.ok("GET", "/v1/templates", other.ops)}
    create(api, other, EMAIL_EN)
    kept = api.ok("GET", "/v1/templates/water.leak", owner.ops)["variants"][0]["parts"]
    assert kept == EMAIL_EN["parts"]


def test_only_ops_keys_may_use_templates(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant, name="Anna")
    for credential in (tenant.feed, api.token(tenant, customer["id"])):
        api.problem("POST", "/v1/templates", credential, 403, json=SMS_DE)
        api.problem("GET", "/v1/templates", credential, 403)
        api.problem("GET", f"/v1/templates/{KEY}", credential, 403)
        patch = {"channel": "sms", "locale": "de", "parts": {"text": "x"}}
        api.problem("PATCH", f"/v1/templates/{KEY}", credential, 403, json=patch)
        api.problem(
            "POST", f"/v1/templates/{KEY}/preview", credential, 403, json={"channel": "sms"}
        )
    api.problem("GET", "/v1/templates", {}, 401)


def test_a_template_over_its_render_budget_is_refused_at_save(api: Api) -> None:
    tenant = api.tenant()
    slow = "{% for i in range(42000) %}{% for j in range(42000) %}{% endfor %}{% endfor %}x"
    body = {"key": "energy.daily_above", "channel": "sms", "locale": "en", "parts": {"text": slow}}
    problem = api.problem("POST", "/v1/templates", tenant.ops, 422, json=body)
    assert problem["type"].endswith("/template-over-budget")
    assert problem["errors"][0]["field"] == "body.parts.text"
