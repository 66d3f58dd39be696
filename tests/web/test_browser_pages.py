"""The pages in a real browser: nothing a customer or a template controls runs as script,
axe-core finds no serious or critical problem (German pages, errors and the message links
included), and the sign-in form works from the keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from engine.delivery.links import Unsubscribe, unsubscribe_url
from engine.models import HistoryKind
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.conftest import Live, axe_violations
from tests.web.pages import path_of

# What these check does not depend on the database: SQLite only, to keep the browser tests few.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

XSS_NAME = "<script>window.pwned = 1</script>Ada"
XSS_TITLE = '<img src=x onerror="window.pwned = 1">Daily use'


def _hostile_customer(live: Live) -> dict[str, Any]:
    api = live.api
    tenant = api.tenant()
    publish(api, tenant, {**DAILY_ENERGY, "title": {"en": XSS_TITLE, "de": XSS_TITLE}})
    customer = api.customer(
        tenant, name=XSS_NAME, locale="en", email="ada@example.com", consents=[{"channel": "email"}]
    )
    token = api.token(tenant, customer["id"])
    api.ok("POST", "/v1/me/triggers", token, 201, json={"rule": DAILY_ENERGY["key"]})
    with live.runtime.services() as services:  # a message as a template rendered it
        services.history.record(
            tenant.id,
            customer["id"],
            HistoryKind.message,
            "email sent",
            {"subject": XSS_TITLE, "text": f"Hello {XSS_NAME}"},
            channel="email",
        )
    link = api.ok("POST", f"/v1/customers/{customer['id']}/manage-link", tenant.feed, 201)
    return {"tenant": tenant, "customer": customer, "link": link["url"]}


def test_nothing_a_customer_or_template_controls_runs(live: Live, page: Any) -> None:
    hostile = _hostile_customer(live)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(hostile["link"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("Hello <script>window.pwned = 1</script>Ada").wait_for()
    for path in ("/me", "/me/alerts", "/me/alerts/new?rule=energy.daily_above", "/me/history"):
        page.goto(live.url + path)
        assert page.evaluate("window.pwned") is None, path
    assert page.get_by_text("Hello <script>window.pwned = 1</script>Ada").is_visible()
    page.goto(live.url + "/me/alerts")
    assert page.get_by_role("heading", name=XSS_TITLE).first.is_visible()
    assert dialogs == []

    raw = live.api.client  # the same pages, as markup: escaped, not stripped
    raw.cookies.update({c["name"]: c["value"] for c in page.context.cookies()})
    html = raw.get("/me/history").text
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;Ada" in html and "<script>" not in html
    assert "&lt;img src=x onerror=" in html


def test_axe_finds_nothing_serious_on_the_other_pages(live: Live, page: Any) -> None:
    page.set_content("<html lang='en'><body><main><input type='text'></main></body></html>")
    assert axe_violations(page), "axe-core must see an unlabelled field"

    hostile = _hostile_customer(live)
    problems: list[str] = []
    page.goto(live.url + "/me/login")
    problems += axe_violations(page)
    page.get_by_role("button", name="Send me a link").click()  # empty: the error summary
    page.get_by_role("link", name="Enter an email address or a phone number").wait_for()
    problems += axe_violations(page)
    page.goto(hostile["link"] + "tampered")
    page.get_by_role("heading", name="This link is not valid").wait_for()
    problems += axe_violations(page)
    settings = live.runtime.settings
    target = Unsubscribe(hostile["tenant"].id, hostile["customer"]["id"], "email", "energy")
    page.goto(live.url + path_of(unsubscribe_url(settings, target)))
    problems += axe_violations(page)

    page.goto(hostile["link"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Deutsch").click()
    page.get_by_role("heading", name="Ihre Benachrichtigungen").wait_for()
    assert page.locator("html").get_attribute("lang") == "de"
    problems += axe_violations(page)
    page.goto(live.url + "/me/settings")
    page.get_by_label("Pausieren bis einschließlich").fill("2001-01-01")
    page.get_by_role("button", name="Pausieren", exact=True).click()
    page.get_by_role("link", name="Geben Sie ein Datum in der Zukunft ein").wait_for()
    problems += axe_violations(page)
    for path in ("/me/alerts/new?rule=energy.daily_above", "/me/data/delete", "/me/nothing"):
        page.goto(live.url + path)
        problems += axe_violations(page)
    assert problems == []


def test_sign_in_by_keyboard_alone(live: Live, page: Any) -> None:
    page.goto(live.url + "/me/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    for _ in range(10):  # bounded: from the main content to the address field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "address":
            break
    assert page.evaluate("document.activeElement.id") == "address"
    page.keyboard.type("nobody@example.com")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your messages").wait_for()
