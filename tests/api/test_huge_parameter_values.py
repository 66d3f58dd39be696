"""A parameter value no double can hold (a JSON integer such as 10**400) is a 422 naming the
parameter, in a back-test and in a customer's trigger: converting it raised OverflowError."""

from __future__ import annotations

from tests.api.conftest import FrozenApi
from tests.fixtures.rules import DAILY_ENERGY, subscribe

HUGE = 10**400


def test_a_huge_parameter_value_is_a_422_naming_it(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, params={"limit_kwh": 5})
    backtest = {"params": {"limit_kwh": HUGE}, "readings": []}
    path = f"/v1/rules/{DAILY_ENERGY['key']}/backtest"
    problem = api.problem("POST", path, sub.tenant.ops, 422, json=backtest)
    assert [e["field"] for e in problem["errors"]] == ["body.params.limit_kwh"], problem
    assert "finite" in problem["errors"][0]["msg"]

    trigger = f"/v1/me/triggers/{sub.trigger['id']}"
    changed = api.problem("PATCH", trigger, sub.token, 422, json={"params": {"limit_kwh": HUGE}})
    assert [e["field"] for e in changed["errors"]] == ["body.params.limit_kwh"], changed
    created = {"rule": DAILY_ENERGY["key"], "params": {"limit_kwh": -HUGE}}
    new = api.problem("POST", "/v1/me/triggers", sub.token, 422, json=created)
    assert [e["field"] for e in new["errors"]] == ["body.params.limit_kwh"], new
    assert api.ok("GET", trigger, sub.token)["params"] == {"limit_kwh": 5.0}
