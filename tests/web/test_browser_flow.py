"""A customer's walk through their page in a real browser (headless Chromium), from the
"manage your alerts" link in a real email to deleting their account, checking the database
and the history after each step, and axe-core on every page on the way."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from tests.fixtures.rules import DAILY_ENERGY, hourly, post_readings, publish
from tests.web.conftest import Live, axe_violations

BERLIN = ZoneInfo("Europe/Berlin")
WAIT_S = 20.0


def _midnight(days_ago: int) -> datetime:
    day = datetime.now(BERLIN).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, tzinfo=BERLIN).astimezone(UTC)


def _readings(external_id: str) -> list[dict[str, Any]]:
    """Twenty days of hourly use: 7.2 kWh a day, except 24 kWh yesterday."""
    rows = []
    for days_ago in range(1, 21):
        first = _midnight(days_ago)
        hours = int((_midnight(days_ago - 1) - first).total_seconds() // 3600)
        rows += hourly(external_id, first, [1.0 if days_ago == 1 else 0.3] * hours)
    return rows


def _wait_for_mail(live: Live) -> str:
    """The text of the first message the SMTP server receives (bounded wait)."""
    deadline = datetime.now(UTC) + timedelta(seconds=WAIT_S)
    while not live.smtp.handler.received:
        assert datetime.now(UTC) < deadline, "no email arrived"
        time.sleep(0.1)
    message = live.smtp.handler.received[0].parsed()
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _rows(live: Live, sql: str, **params: Any) -> list[Any]:
    with live.runtime.db.connect() as connection:
        return list(connection.execute(text(sql), params))


def _latest_history(live: Live, customer_id: str) -> tuple[str, dict[str, Any]]:
    kind, data = _rows(
        live,
        "SELECT kind, data FROM history_entries WHERE customer_id = :c ORDER BY id DESC LIMIT 1",
        c=customer_id,
    )[0]
    return str(kind), data if isinstance(data, dict) else json.loads(data)


def test_from_an_email_to_deleting_the_account(live: Live, page: Any) -> None:
    api, problems = live.api, []
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(
        tenant,
        name="Ada",
        locale="en",
        timezone="Europe/Berlin",
        email="ada@example.com",
        phone="+4915112345678",
        consents=[{"channel": "email"}, {"channel": "sms"}],
    )
    cid = customer["id"]
    token = api.token(tenant, cid)
    api.ok("POST", "/v1/me/triggers", token, 201, json={"rule": DAILY_ENERGY["key"]})
    post_readings(api, tenant, _readings(customer["external_id"]))

    # The email about yesterday's 24 kWh carries the link to the customer's page.
    mail = _wait_for_mail(live)
    link = re.search(r"(http://127\.0\.0\.1:\d+/me/link\?token=\S+)", mail)
    assert link, mail
    page.goto(link.group(1))
    assert (
        _rows(
            live,
            "SELECT count(*) FROM history_entries WHERE summary = :s",
            s="signed in on the web page",
        )[0][0]
        == 0
    )  # opening changes nothing
    problems += axe_violations(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Your alerts").wait_for()
    assert page.get_by_text("Hello Ada").is_visible()
    kind, data = _latest_history(live, cid)
    assert (kind, data["event"], data["source"]) == ("profile", "signed in", "web")
    problems += axe_violations(page)

    # A second alert, after looking at its preview on 20 days of readings.
    page.get_by_role("navigation", name="Your alerts").get_by_role("link", name="Alerts").click()
    problems += axe_violations(page)
    page.get_by_role("link", name="Set up Daily electricity use above your limit").click()
    page.get_by_label("Limit (kWh)").fill("5")
    page.get_by_role("button", name="Show how often this would notify me").click()
    preview = page.get_by_role("status")
    assert "With 5\u00a0kWh you would have been notified on 20 of the last 90 days." in (
        preview.inner_text()
    )
    assert page.locator("figure.chart svg rect.bar--fired").count() == 20
    problems += axe_violations(page)
    page.get_by_role("button", name="Save alert").click()
    page.get_by_text("Your alert is set up.").wait_for()
    triggers = _rows(live, "SELECT params FROM triggers WHERE customer_id = :c", c=cid)
    assert len(triggers) == 2
    assert _latest_history(live, cid)[0] == "trigger"
    assert _latest_history(live, cid)[1]["source"] == "web"

    # Revoke SMS.
    page.get_by_role("link", name="Channels and consent").click()
    problems += axe_violations(page)
    page.get_by_label("SMS about All topics").uncheck()
    page.get_by_label("SMS about Daily electricity use above your limit").uncheck()
    page.get_by_role("button", name="Save consent").click()
    page.get_by_text("Your consent is saved.").wait_for()
    granted = _rows(
        live, "SELECT granted FROM consents WHERE customer_id = :c AND channel = 'sms'", c=cid
    )
    assert granted and not any(g for (g,) in granted)
    kind, data = _latest_history(live, cid)
    assert (kind, data["channel"], data["granted"], data["source"]) == (
        "consent",
        "sms",
        False,
        "web",
    )

    # Quiet hours for SMS, then a pause.
    page.get_by_role("link", name="Quiet hours and pause").click()
    problems += axe_violations(page)
    page.get_by_label("Quiet hours for SMS", exact=True).check()
    page.locator("#q_sms_start").fill("22:00")
    page.locator("#q_sms_end").fill("07:00")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Your settings are saved.").wait_for()
    (quiet,) = _rows(live, "SELECT quiet_hours FROM preferences WHERE customer_id = :c", c=cid)[0]
    quiet = quiet if isinstance(quiet, dict) else json.loads(quiet)
    assert quiet["sms"][0]["start"] == "22:00" and quiet["sms"][0]["end"] == "07:00"
    assert _latest_history(live, cid)[0] == "preference"
    until = datetime.now(BERLIN).date() + timedelta(days=7)
    page.get_by_label("Pause until (including)").fill(until.isoformat())
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_text("Your messages are paused.").wait_for()
    (paused,) = _rows(live, "SELECT paused_until FROM preferences WHERE customer_id = :c", c=cid)[0]
    assert paused is not None
    kind, data = _latest_history(live, cid)
    assert kind == "preference" and "paused_until" in data["changed"] and data["source"] == "web"

    # The history, and why the email came.
    page.get_by_role("link", name="History").click()
    problems += axe_violations(page)
    assert page.get_by_text("Signed in on this page").count() >= 1
    assert page.get_by_text("SMS no longer allowed for All topics").is_visible()
    page.get_by_role("link", name="Why did I get this?").first.click()
    page.get_by_role("heading", name="Why did I get this?").wait_for()
    assert page.get_by_text("Daily electricity use above your limit").is_visible()
    assert page.get_by_text("12\u00a0kWh").first.is_visible()  # the limit it fired against
    assert page.get_by_role("definition").filter(has_text="12").first.is_visible()
    assert page.get_by_text("Limit (kWh)").is_visible()  # the parameter by its label
    problems += axe_violations(page)

    # Export, then delete.
    page.get_by_role("link", name="My data").click()
    problems += axe_violations(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data (JSON)").click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert exported["customer"]["id"] == cid and len(exported["triggers"]) == 2
    page.get_by_role("link", name="Delete my account").click()
    page.get_by_role("button", name="Delete my account").click()
    assert page.get_by_role("link", name="There is a problem") is not None
    page.get_by_text("Confirm that you understand").first.wait_for()
    assert _rows(live, "SELECT erased_at FROM customers WHERE id = :c", c=cid)[0][0] is None
    problems += axe_violations(page)
    page.get_by_label("I understand that my data will be deleted").check()
    page.get_by_role("button", name="Delete my account").click()
    page.get_by_role("heading", name="Your account is deleted").wait_for()
    assert _rows(live, "SELECT erased_at FROM customers WHERE id = :c", c=cid)[0][0] is not None
    assert (
        _rows(live, "SELECT count(*) FROM contact_points WHERE customer_id = :c", c=cid)[0][0] == 0
    )
    assert _latest_history(live, cid)[0] == "erasure"
    page.goto(f"{live.url}/me")
    page.get_by_role("heading", name="Sign in to manage your alerts").wait_for()

    assert problems == []
