"""Back-tests and template previews post their input but store nothing: the conditions and
templates they evaluate run with no write transaction held, so another connection can write
(on SQLite, take the one write lock; on PostgreSQL, lock the tenant's row) meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import engine.catalog.backtest
import engine.message_templates.service
from tests.api.conftest import FrozenApi
from tests.api.test_templates_api import EMAIL_EN, create
from tests.engine.evaluation.test_backtest import as_posted, sample
from tests.engine.evaluation.test_evaluation_outside_write_lock import _can_write
from tests.fixtures.rules import DAILY_ENERGY


def _watch(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, hook: Callable[[], None]
) -> None:
    real = getattr(module, name)

    def watched(*args: Any, **kwargs: Any) -> Any:
        hook()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, watched)


def test_a_backtest_runs_its_conditions_under_no_write_lock(
    frozen: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = frozen.api
    tenant = api.tenant()
    api.ok("POST", "/v1/rules", tenant.ops, 201, json=DAILY_ENERGY)
    writable: list[bool] = []
    hook = lambda: writable.append(_can_write(frozen.runtime, tenant.id))  # noqa: E731
    _watch(monkeypatch, engine.catalog.backtest, "backtest", hook)
    body = {"params": {"limit_kwh": 5}, "timezone": "Europe/Berlin", "readings": []}
    body["readings"] = as_posted(sample("x"))
    answer = api.ok("POST", "/v1/rules/energy.daily_above/backtest", tenant.ops, json=body)
    assert len(answer["fired"]) == 2
    assert writable == [True]


def test_a_template_preview_renders_under_no_write_lock(
    frozen: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = frozen.api
    tenant = api.tenant()
    create(api, tenant, EMAIL_EN)
    writable: list[bool] = []
    hook = lambda: writable.append(_can_write(frozen.runtime, tenant.id))  # noqa: E731
    _watch(monkeypatch, engine.message_templates.service, "render", hook)
    preview = api.ok(
        "POST",
        "/v1/templates/water.leak/preview",
        tenant.ops,
        json={"channel": "email", "locale": "en", "context": {"window": {"sum": 3.25}}},
    )
    assert preview["text"] == "Hello Alex Morgan,\nyour water use is 3.25 m³."
    assert writable == [True]
