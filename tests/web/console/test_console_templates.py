"""Templates in the console: rule × channel × locale with the missing ones flagged, the
editor's live preview per channel for a chosen customer, and errors beside the part."""

from __future__ import annotations

import re
from html import unescape

from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in, post_form

SMS_DE = "/console/templates/energy.daily_above/sms/de"


def test_the_matrix_flags_missing_combinations(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, {**DAILY_ENERGY, "key": "energy.new_rule", "template_key": "energy.new"})
    console_sign_in(api.client, tenant.ops_key)
    page = unescape(api.client.get("/console/templates").text)
    assert "energy.new" in page and "energy.daily_above" in page
    cells = re.findall(r'<a href="/console/templates/energy\.new/(\w+)/([\w-]+)">(.*?)</a>', page)
    assert cells and all("missing" in shown for _, _, shown in cells)
    shipped = re.search(r'href="/console/templates/energy\.daily_above/sms/de">(.*?)</a>', page)
    assert shipped and shipped.group(1).startswith("default")
    assert re.search(r"(\d+) combinations are missing", page)


def test_the_german_sms_is_edited_previewed_for_a_customer_and_saved(api: Api) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    api.customer(tenant, external_id="anna", name="Anna Schmidt", locale="de-DE")
    console_sign_in(api.client, tenant.ops_key)
    text = "Hallo {{ customer.name }}, Ihr Verbrauch: {{ window.sum }} - Grenze überschritten."
    preview = post_form(api.client, SMS_DE, SMS_DE, customer="anna", text=text, action="preview")
    shown = unescape(preview.text)
    assert preview.status_code == 200, shown
    assert "Hallo Anna Schmidt, Ihr Verbrauch:" in shown
    found = re.search(r"(GSM-7|UCS-2), (\d+) characters, (\d+) segments", shown)
    assert found and found.group(1) == "GSM-7" and found.group(3) == "1"
    assert api.ok("GET", "/v1/templates/energy.daily_above", tenant.ops)  # nothing saved yet
    own = [
        v
        for v in api.ok("GET", "/v1/templates/energy.daily_above", tenant.ops)["variants"]
        if v["source"] == "tenant"
    ]
    assert own == []

    saved = post_form(api.client, SMS_DE, SMS_DE, customer="anna", text=text + " 🔌", action="save")
    assert "The template is saved." in saved.text
    assert re.search(r"UCS-2, \d+ characters, 1 segments", unescape(saved.text))
    variants = api.ok("GET", "/v1/templates/energy.daily_above", tenant.ops)["variants"]
    mine = [v for v in variants if v["source"] == "tenant" and v["channel"] == "sms"]
    assert mine and mine[0]["locale"] == "de" and mine[0]["parts"]["text"].endswith("🔌")
    listed = unescape(api.client.get("/console/templates").text)
    assert re.search(r'energy\.daily_above/sms/de">own', listed)


def test_errors_stand_beside_the_part_and_nothing_is_saved(api: Api) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    broken = post_form(api.client, SMS_DE, SMS_DE, text="Hallo {{ customer.name", action="save")
    assert broken.status_code == 422
    assert 'href="#text"' in broken.text and 'aria-invalid="true"' in broken.text
    assert "line 1" in unescape(broken.text)
    escape = post_form(
        api.client, SMS_DE, SMS_DE, text="{{ customer.__class__.__mro__ }}", action="save"
    )
    assert escape.status_code == 422 and 'href="#text"' in escape.text
    variants = api.ok("GET", "/v1/templates/energy.daily_above", tenant.ops)["variants"]
    assert not [v for v in variants if v["source"] == "tenant"]


def test_email_html_in_a_sandboxed_frame_and_voice_with_its_twiml(api: Api) -> None:
    tenant = api.tenant()
    console_sign_in(api.client, tenant.ops_key)
    email = api.client.get("/console/templates/energy.daily_above/email/en").text
    frame = re.search(r"<iframe[^>]*>", email)
    assert frame and " sandbox " in frame.group(0) and 'srcdoc="' in frame.group(0)
    assert "&lt;" in frame.group(0)  # the HTML travels escaped inside the attribute
    voice = unescape(api.client.get("/console/templates/energy.daily_above/voice/de").text)
    assert '<Say language="de-DE">' in voice and "<Response>" in voice
