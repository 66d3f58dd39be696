"""The console's rule and template editors evaluate (rule tests, live previews) with no write
transaction held: another connection can take the SQLite write lock meanwhile. Saving
redirects to the editor, which runs the rule's tests or renders the preview as a GET."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest

import engine.console.templates
from api.routers import console_rules
from engine.processes.runtime import Runtime
from tests.engine.evaluation.test_evaluation_outside_write_lock import _can_write
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in, post_form
from tests.web.console.test_console_rules import FORM
from tests.web.console.test_console_templates import SMS_DE

EDITOR = "/console/rules/energy.daily_above"
TESTS = (
    "timezone: UTC\ntests:\n"
    "  - name: over\n    params: {limit_kwh: 10}\n"
    '    readings: [{start: "2026-03-02T08:00:00Z", value: 11}]\n'
    '    expect: [{window_start: "2026-03-02", value: 11}]\n'
)


def test_a_saved_rules_tests_run_under_no_write_lock(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    console_sign_in(api.client, tenant.ops_key)
    writable: list[bool] = []
    real = console_rules.run_rule_tests

    def watched(*args: Any) -> Any:
        writable.append(_can_write(runtime, tenant.id))
        return real(*args)

    monkeypatch.setattr(console_rules, "run_rule_tests", watched)
    page = api.client.get(EDITOR).text
    values = {
        k: unescape(v) for k, v in re.findall(r'name="(\w+)" type="text" value="([^"]*)"', page)
    }
    form = {**FORM, **values, "window": "day", "requires_ack": "", "late_hours": ""}
    form["parameters"] = json.dumps(DAILY_ENERGY["parameters"])
    form["condition"] = "window.sum > params.limit_kwh"
    form.pop("key")
    saved = post_form(api.client, EDITOR, EDITOR, **form, tests=TESTS)
    assert "The draft is saved. Its tests: 1 passed, 0 failed." in saved.text, saved.text
    assert writable == [True]


def test_a_template_preview_and_a_save_render_under_no_write_lock(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    api.customer(tenant, external_id="anna", name="Anna Schmidt", locale="de-DE")
    console_sign_in(api.client, tenant.ops_key)
    writable: list[bool] = []
    real = engine.console.templates.ConsoleTemplates.preview

    def watched(self: Any, *args: Any) -> Any:
        writable.append(_can_write(runtime, tenant.id))
        return real(self, *args)

    monkeypatch.setattr(engine.console.templates.ConsoleTemplates, "preview", watched)
    text = "Hallo {{ customer.name }}: {{ window.sum }}"
    shown = post_form(api.client, SMS_DE, SMS_DE, customer="anna", text=text, action="preview")
    assert "Hallo Anna Schmidt" in shown.text
    saved = post_form(api.client, SMS_DE, SMS_DE, customer="anna", text=text, action="save")
    assert "The template is saved." in saved.text and "Hallo Anna Schmidt" in saved.text
    assert len(writable) == 4  # two editor pages loaded, the preview, the saved page
    assert all(writable)
