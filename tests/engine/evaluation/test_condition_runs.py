"""A batch runs each window's condition at most once: where it turns true, the state step
takes the outcome already found instead of running the condition again (a tenant's condition
costs CPU up to its budget each time it runs), and windows decided in bulk do not run it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import engine.evaluation.threshold
import rules.trigger
from tests.api.conftest import FrozenApi
from tests.fixtures.rules import DAILY_ENERGY, berlin, hourly, post_readings, subscribe

# `||` has no recognised shape: every window runs the condition.
EITHER: dict[str, Any] = {
    **DAILY_ENERGY,
    "key": "energy.either",
    "condition": "window.sum > params.limit_kwh || window.count > 1000",
}


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The source of every threshold condition run, wherever the engine runs it."""
    ran: list[str] = []

    def counting(real: Callable[..., Any]) -> Callable[..., Any]:
        def evaluate(condition: Any, *args: Any, **kwargs: Any) -> Any:
            ran.append(condition.source)
            return real(condition, *args, **kwargs)

        return evaluate

    for module in (engine.evaluation.threshold, rules.trigger):
        monkeypatch.setattr(module, "evaluate", counting(module.evaluate))
    yield ran


def test_a_condition_that_turns_true_runs_once(frozen: FrozenApi, runs: list[str]) -> None:
    api = frozen.api
    low = subscribe(api, EITHER, {"limit_kwh": 5})
    high = subscribe(api, EITHER, {"limit_kwh": 50}, tenant=low.tenant)
    rows = [*hourly(low.ref, berlin(0), [6.0]), *hourly(high.ref, berlin(0), [6.0])]
    assert post_readings(api, low.tenant, rows)["notifications"] == 1
    assert runs == [EITHER["condition"]] * 2  # two windows, one of them true


def test_a_condition_decided_in_bulk_does_not_run(frozen: FrozenApi, runs: list[str]) -> None:
    api = frozen.api
    low = subscribe(api, DAILY_ENERGY, {"limit_kwh": 5})
    high = subscribe(api, DAILY_ENERGY, {"limit_kwh": 50}, tenant=low.tenant)
    rows = [*hourly(low.ref, berlin(0), [6.0]), *hourly(high.ref, berlin(0), [6.0])]
    assert post_readings(api, low.tenant, rows)["notifications"] == 1
    assert runs == []
