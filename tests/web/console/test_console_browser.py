"""An operations user's walk through the console in a real browser (headless Chromium): a
rule written with a mistake and fixed at the shown position, back-tested on a customer's
Green Button year, its impact read, published; the German SMS template edited and
previewed; the resulting notification followed to its delivery. axe-core on every page,
in English and in German."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.rules import post_readings
from tests.web.conftest import Live, axe_violations

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "greenbutton"
YEAR = DATA / "Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml"
WAIT_S = 20.0
PARAMETERS = [
    {
        "name": "limit_kwh",
        "type": "double",
        "unit": "kWh",
        "min": 1,
        "max": 500,
        "default": 30,
        "label": {"en": "Limit", "de": "Grenze"},
    }
]


def _wait_for_mail(live: Live) -> None:
    deadline = time.monotonic() + WAIT_S
    while not live.smtp.handler.received:
        assert time.monotonic() < deadline, "no email arrived"
        time.sleep(0.1)


def test_write_backtest_publish_template_and_follow_a_delivery(live: Live, page: Any) -> None:
    if not YEAR.is_file():
        pytest.skip(f"no Green Button year at {YEAR} (../shared/data is not in this checkout)")
    api, problems = live.api, []
    tenant = api.tenant("Stadtwerke Nord")
    customer = api.customer(
        tenant,
        external_id="gb-5",
        name="Anna Schmidt",
        locale="de-DE",
        timezone="America/Los_Angeles",
        email="anna@example.com",
        consents=[{"channel": "email"}],
    )
    headers = {**tenant.feed, "Content-Type": "application/atom+xml"}
    fed = api.ok("POST", "/v1/feeds/greenbutton?customer=gb-5", headers, content=YEAR.read_bytes())
    assert fed["accepted"] > 8000

    # Sign in with the ops key.
    page.goto(f"{live.url}/console")
    problems += axe_violations(page)
    page.get_by_label("Ops key").fill(tenant.ops_key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Rules").wait_for()
    problems += axe_violations(page)

    # A new rule with a mistake in its condition, fixed where the page points.
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Key", exact=True).fill("energy.day_peak")
    page.get_by_label("Title (English)").fill("A day above your limit")
    page.get_by_label("Title (German)").fill("Ein Tag über Ihrem Limit")
    page.get_by_label("Topic", exact=True).fill("energy")
    page.get_by_label("Template key").fill("energy.daily_above")
    page.get_by_label("Metric", exact=True).fill("electricity.consumption")
    page.get_by_label("Window", exact=True).select_option("day")
    page.get_by_label("Aggregate", exact=True).select_option("sum")
    page.get_by_label("Parameters").fill(json.dumps(PARAMETERS))
    page.get_by_label("Condition (CEL)").fill("window.sum >\nparams.limit_kwh +")
    page.get_by_role("button", name="Save draft").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    position = re.search(r"at (\d+):(\d+)", summary.inner_text())
    assert position and position.groups() == ("2", "19"), summary.inner_text()
    problems += axe_violations(page)
    summary.get_by_role("link").first.click()  # the summary's link goes to the field
    assert page.evaluate("document.activeElement.id") == "condition"
    page.get_by_label("Condition (CEL)").fill("window.sum >\nparams.limit_kwh")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("The draft is saved.").wait_for()
    problems += axe_violations(page)

    # Back-test on the customer's year.
    page.get_by_role("link", name="Back-test").click()
    page.get_by_label("Customer's external id").fill("gb-5")
    page.get_by_label("Limit (kWh)").fill("12")
    page.get_by_role("button", name="Run the back-test").click()
    heading = page.get_by_role("heading", name=re.compile(r"notifications over \d+ windows"))
    found = re.search(r"(\d+) notifications over (\d+) windows", heading.inner_text())
    assert found and 360 <= int(found.group(2)) <= 366 and int(found.group(1)) > 0
    assert page.locator("figure.chart svg rect.bar--fired").count() == int(found.group(1))
    assert page.get_by_role("img").count() >= 1  # the chart, named by its caption
    problems += axe_violations(page)

    # The impact on everyone before publishing.
    page.get_by_role("link", name="energy.day_peak").click()
    page.get_by_role("link", name="Impact of the draft").click()
    page.get_by_label("Days", exact=True).fill("30")
    page.get_by_role("button", name="Estimate the impact").click()
    answer = page.get_by_text(re.compile(r"This version would have sent \d+ notifications"))
    answer.wait_for(timeout=WAIT_S * 1000)
    problems += axe_violations(page)

    # Publish, after the confirmation.
    page.get_by_role("link", name="energy.day_peak").click()
    page.get_by_role("link", name="Publish").click()
    page.get_by_role("heading", name="Publish version 1 of energy.day_peak?").wait_for()
    problems += axe_violations(page)
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Version 1 is published.").wait_for()

    # The German SMS template, previewed for the customer.
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Templates").click()
    problems += axe_violations(page)
    page.get_by_role("link", name=re.compile("energy.daily_above sms de$")).click()
    page.get_by_label("Preview for the customer (external id)").fill("gb-5")
    page.get_by_label("Text", exact=True).fill("Hallo {{ customer.name }}, heute über dem Limit.")
    page.get_by_role("button", name="Preview").click()
    status = page.get_by_role("status").filter(has_text="segments")
    assert re.search(r"GSM-7, \d+ characters, 1 segments", status.inner_text())
    assert page.get_by_text("Hallo Anna Schmidt, heute über dem Limit.").is_visible()
    problems += axe_violations(page)
    page.get_by_role("button", name="Save template").click()
    page.get_by_text("The template is saved.").wait_for()

    # The customer subscribes; today's use crosses the limit; the email goes out.
    token = api.token(tenant, customer["id"])
    body = {"rule": "energy.day_peak", "params": {"limit_kwh": 30}}
    api.ok("POST", "/v1/me/triggers", token, 201, json=body)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    reading = {"customer": "gb-5", "metric": "electricity.consumption", "duration": 3600}
    post_readings(
        api, tenant, [{**reading, "start": start.isoformat(), "value": 40, "unit": "kWh"}]
    )
    _wait_for_mail(live)

    # Followed to its delivery.
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Deliveries").click()
    problems += axe_violations(page)
    page.get_by_label("Rule", exact=True).fill("energy.day_peak")
    page.get_by_role("button", name="Apply").click()
    page.locator("table a[href^='/console/deliveries/ntf_']").first.click()
    page.get_by_role("heading", name="Attempts").wait_for()
    deadline = time.monotonic() + WAIT_S
    while "sent" not in page.locator("table").first.inner_text():
        assert time.monotonic() < deadline, "the attempt never showed as sent"
        page.reload()
    assert "window" in page.locator("pre.code").first.inner_text()  # the why
    problems += axe_violations(page)

    # The same pages in German.
    page.get_by_role("link", name="Deutsch").click()
    page.get_by_role("heading", name="Versuche").wait_for()
    problems += axe_violations(page)
    for path in (
        "/console/rules",
        "/console/rules/energy.day_peak",
        "/console/templates",
        "/console/customers/gb-5",
        "/console/rules/energy.day_peak/backtest",
    ):
        page.goto(f"{live.url}{path}")
        assert page.locator("html").get_attribute("lang") == "de"
        problems += axe_violations(page)
    assert problems == []


def test_the_email_preview_renders_in_its_sandboxed_frame(live: Live, page: Any) -> None:
    tenant = live.api.tenant()
    page.goto(f"{live.url}/console/login")
    page.get_by_label("Ops key").fill(tenant.ops_key)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live.url}/console/templates/energy.daily_above/email/en")
    frame = page.frame_locator("iframe.email-preview")
    frame.locator("body").wait_for()
    assert "kWh" in frame.locator("body").inner_text()  # the HTML part, rendered
    scripts = page.evaluate("document.querySelector('iframe').getAttribute('sandbox')")
    assert scripts == ""  # sandboxed with nothing allowed: no script, no forms, no top navigation
    assert axe_violations(page) == []
