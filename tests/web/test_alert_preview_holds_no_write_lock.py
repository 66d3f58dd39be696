"""The alert form's preview replays the customer's own readings through the rule's condition;
it only reads, so another connection can write (on SQLite, take the one write lock) while the
condition runs, and saving from the same form still stores the alert."""

from __future__ import annotations

from typing import Any

import pytest

import engine.portal.preview
from engine.processes.runtime import Runtime
from tests.engine.evaluation.test_evaluation_outside_write_lock import _can_write
from tests.fixtures.api import Api
from tests.web.pages import csrf, manage_link, sign_in
from tests.web.test_alerts import _customer_with_readings


def test_the_preview_runs_its_condition_under_no_write_lock(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, customer = _customer_with_readings(api)
    sign_in(api.client, manage_link(api, tenant, customer["id"]))
    page = api.client.get("/me/alerts/new?rule=energy.daily_above")

    writable: list[bool] = []
    real = engine.portal.preview.backtest

    def watched(*args: Any) -> Any:
        writable.append(_can_write(runtime, tenant.id))
        return real(*args)

    monkeypatch.setattr(engine.portal.preview, "backtest", watched)
    form = {"csrf_token": csrf(page.text), "rule": "energy.daily_above", "p_limit_kwh": "5"}
    lower = api.client.post("/me/alerts/new", data={**form, "action": "preview"})
    assert "you would have been notified on 12 of the last 90 days" in lower.text
    assert writable == [True]

    saved = api.client.post("/me/alerts/new", data={**form, "action": "save"})
    assert saved.status_code == 200, saved.text
    token = api.token(tenant, customer["id"])
    [trigger] = api.ok("GET", "/v1/me/triggers", token)
    assert trigger["params"] == {"limit_kwh": 5.0}
