"""U+0000 in a field of a form of the customer's page or the console: the form is shown again
(HTML, the status its other errors have) with the error in the summary, linked to the field,
and beside the field, which is marked invalid; nothing is stored, on SQLite as on PostgreSQL.
A browser without JavaScript gets a page it can correct, not problem+json."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from api.input_guard import NulGuardMiddleware
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in, post_form
from tests.web.pages import csrf, manage_link, sign_in, submit

NUL = "\x00"
SAID = "U+0000"


def _form_again(answer: httpx.Response, status: int, *fields: str) -> str:
    """The page, with each field's error in the summary and beside the field."""
    assert answer.status_code == status, (answer.status_code, answer.text[:2000])
    assert answer.headers["content-type"].startswith("text/html"), answer.headers
    page = answer.text
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert summary, page
    for field in fields:
        assert f'href="#{field}"' in summary.group(0), (field, summary.group(0))
        beside = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
        assert beside and SAID in beside.group(1), (field, page)
        control = re.search(rf'<(input|textarea)[^>]*\bid="{field}"[^>]*>', page)
        assert control and 'aria-invalid="true"' in control.group(0), (field, page)
        assert f"{field}-error" in control.group(0)  # aria-describedby names the message
    assert NUL not in page
    return page


def _signed_in(api: Api) -> tuple[Any, dict[str, Any]]:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant, name="Ada", locale="en", timezone="Europe/Berlin")
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    return tenant, customer


def test_the_customers_forms_are_shown_again_with_the_fields_error(api: Api) -> None:
    tenant, customer = _signed_in(api)
    profile = {"name": f"Ada{NUL}King", "language": "en", "timezone": "Europe/Berlin"}
    answer = submit(api.client, "/me/data", "/me/data/profile", **profile)
    page = _form_again(answer, 400, "name")
    assert "Ada\ufffdKing" in unescape(page)  # what was typed, the NUL shown as U+FFFD
    assert api.ok("GET", f"/v1/customers/{customer['id']}", tenant.ops)["name"] == "Ada"

    quiet = {"q_email_on": "on", "q_email_days": "1", "q_email_start": f"22{NUL}:00"}
    answer = submit(api.client, "/me/settings", "/me/settings", **quiet, q_email_end="07:00")
    _form_again(answer, 400, "q_email_start")

    rule = DAILY_ENERGY["key"]
    page = api.client.get(f"/me/alerts/new?rule={rule}").text
    fields = {"rule": rule, "p_limit_kwh": f"12{NUL}", "action": "save", "csrf_token": csrf(page)}
    answer = api.client.post("/me/alerts/new", data=fields)
    _form_again(answer, 400, "p_limit_kwh")
    token = api.ok("POST", f"/v1/customers/{customer['id']}/tokens", tenant.feed, 201)["token"]
    assert api.ok("GET", "/v1/me/triggers", {"Authorization": f"Bearer {token}"}) == []


def test_sign_in_forms_say_what_is_wrong(api: Api) -> None:
    tenant = api.tenant()
    answer = submit(api.client, "/me/login", "/me/login", address=f"ada{NUL}@example.com")
    _form_again(answer, 400, "address")
    page = api.client.get("/me/login")
    answer = api.client.post("/me/link", data={"token": f"x{NUL}", "csrf_token": csrf(page.text)})
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    answer = post_form(api.client, "/console/login", "/console/login", key=tenant.ops_key + NUL)
    _form_again(answer, 400, "key")
    assert "/console/rules" not in answer.headers.get("location", "")


def test_the_consoles_forms_are_shown_again_with_the_fields_error(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    api.customer(tenant, external_id="k-1", timezone="Europe/Berlin")
    console_sign_in(api.client, tenant.ops_key)
    rule = {
        "key": "energy.nul",
        "title_en": f"Use{NUL}",
        "topic": "energy",
        "kind": "threshold",
        "metric": "electricity",
        "window": "day",
        "aggregate": "sum",
        "parameters": json.dumps([{"name": "limit_kwh", "type": "double", "min": 1}]),
        "condition": f"window.sum > params.limit_kwh{NUL}",
        "template_key": "energy.daily_above",
    }
    answer = post_form(api.client, "/console/rules/new", "/console/rules/new", **rule)
    _form_again(answer, 422, "title_en", "condition")
    assert api.client.get("/v1/rules/energy.nul", headers=tenant.ops).status_code == 404

    edit = f"/console/rules/{DAILY_ENERGY['key']}"
    answer = post_form(api.client, edit, edit, **{**rule, "key": DAILY_ENERGY["key"]})
    _form_again(answer, 422, "title_en", "condition")
    draft = api.ok("GET", edit.replace("/console", "/v1"), tenant.ops)["draft"]
    assert draft["condition"] == DAILY_ENERGY["condition"]

    template = "/console/templates/energy.daily_above/sms/en"
    answer = post_form(api.client, template, template, text=f"Hi{NUL}", action="save")
    _form_again(answer, 422, "text")
    variants = api.ok("GET", "/v1/templates/energy.daily_above", tenant.ops)["variants"]
    assert [v for v in variants if v["source"] == "tenant"] == []

    # The back-test's form is multipart (it may carry a file of readings).
    backtest = f"/console/rules/{DAILY_ENERGY['key']}/backtest"
    posted = {"csrf_token": csrf(api.client.get(backtest).text), "customer": f"k-1{NUL}"}
    answer = api.client.post(backtest, data=posted, files={"file": ("", b"", "text/csv")})
    _form_again(answer, 422, "customer")


def test_nul_that_reaches_the_database_anyway_is_a_page_not_a_500(
    api: Api, runtime: Runtime
) -> None:
    """Without the guard in front (a route it does not cover), PostgreSQL's refusal of U+0000
    on the customer's page or the console is a page that says so (422), not the 500 page or
    problem+json; SQLite finds nothing."""
    app = create_app(runtime)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not NulGuardMiddleware]
    with TestClient(app) as client:
        guarded = Api(client)
        tenant = guarded.tenant()
        customer = guarded.customer(tenant, name="Ada", locale="en", timezone="Europe/Berlin")
        sign_in(client, manage_link(guarded, tenant, customer["id"]))
        answers = [client.get("/me/alerts/trg_%00")]
        console_sign_in(client, tenant.ops_key)
        answers.append(client.get("/console/customers", params={"external_id": f"k{NUL}"}))
    postgres = runtime.settings.database_url.startswith("postgresql")
    for answer in answers:
        assert answer.headers["content-type"].startswith("text/html"), answer.headers
        assert answer.status_code in (200, 404, 422), answer.status_code
        if postgres:
            assert answer.status_code == 422 and SAID in answer.text, answer.text


def test_an_unexpected_error_is_a_page_on_the_console_as_on_the_customers_page(
    runtime: Runtime,
) -> None:
    app = create_app(runtime)

    def fails() -> None:
        raise RuntimeError("a bug")

    for path in ("/me/fails", "/console/fails"):
        app.add_api_route(path, fails)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/me/fails", "/console/fails"):
            answer = client.get(path)
            assert answer.status_code == 500, (path, answer.text)
            assert answer.headers["content-type"].startswith("text/html"), (path, answer.headers)


def test_nul_in_a_pages_address_is_a_page_that_says_so(api: Api) -> None:
    """A query or path parameter of the customer's page or the console with U+0000: a 422
    page, as a form's field is shown (it had been problem+json, raw JSON in the browser)."""
    tenant, _ = _signed_in(api)
    answers = [api.client.get("/me/history?cursor=%00"), api.client.get("/me/alerts/trg_%00")]
    console_sign_in(api.client, tenant.ops_key)
    answers.append(api.client.get("/console/customers", params={"external_id": f"k{NUL}"}))
    answers.append(api.client.get(f"/console/rules/{DAILY_ENERGY['key']}%00"))
    for answer in answers:
        assert answer.status_code == 422, (answer.request.url, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html"), answer.headers
        assert SAID in answer.text
