"""Impact replays and console back-tests only read: their conditions run with no write
transaction held, so another connection can write (on SQLite, take the one write lock)
meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import engine.console.backtests
import engine.console.impact
from engine.processes.runtime import Runtime
from tests.engine.evaluation.test_evaluation_outside_write_lock import _can_write
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, post_readings, publish
from tests.web.console.console import console_sign_in, post_form
from tests.web.console.test_console_impact import ANSWER, EDITOR, _draft, _finished


def test_an_impact_replay_runs_its_conditions_under_no_write_lock(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    customer = api.customer(tenant, external_id="ada", timezone="UTC")
    token = api.token(tenant, customer["id"])
    body = {"rule": "energy.daily_above", "params": {"limit_kwh": 10}}
    api.ok("POST", "/v1/me/triggers", token, 201, json=body)
    yesterday = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0)
    yesterday -= timedelta(days=1)
    row = {"customer": "ada", "metric": DAILY_ENERGY["metric"], "duration": 3600, "unit": "kWh"}
    post_readings(api, tenant, [{**row, "start": yesterday.isoformat(), "value": 15.0}])

    writable: list[bool] = []
    real = engine.console.impact._true

    def watched(*args: Any) -> bool:
        writable.append(_can_write(runtime, tenant.id))
        return real(*args)

    monkeypatch.setattr(engine.console.impact, "_true", watched)
    console_sign_in(api.client, tenant.ops_key)
    # Not the plain comparison impact makes in Python: CEL evaluates this one.
    draft = _draft(api, "window.sum * 1.0 > params.limit_kwh")
    assert post_form(api.client, EDITOR, EDITOR, **draft).status_code == 200
    started = post_form(api.client, EDITOR + "/impact", EDITOR + "/impact", days="7")
    found = ANSWER.search(_finished(api, str(started.url)))
    assert found and int(found.group(1)) == 1
    assert writable and all(writable)


def test_a_console_backtest_runs_its_conditions_under_no_write_lock(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    api.customer(tenant, external_id="ada", timezone="UTC")
    yesterday = datetime.now(UTC).replace(hour=11, minute=0, second=0, microsecond=0)
    yesterday -= timedelta(days=1)
    row = {"customer": "ada", "metric": DAILY_ENERGY["metric"], "duration": 3600, "unit": "kWh"}
    post_readings(api, tenant, [{**row, "start": yesterday.isoformat(), "value": 15.0}])

    writable: list[bool] = []
    real = engine.console.backtests.backtest

    def watched(*args: Any) -> Any:
        writable.append(_can_write(runtime, tenant.id))
        return real(*args)

    monkeypatch.setattr(engine.console.backtests, "backtest", watched)
    console_sign_in(api.client, tenant.ops_key)
    page = EDITOR + "/backtest"
    answer = post_form(api.client, page, page, version="1", customer="ada", p_limit_kwh="10")
    assert answer.status_code == 200, answer.text
    assert writable == [True]
