"""Property: leaving alone the windows a trigger has already fired in (it re-arms only in the
next one) decides exactly what stepping them again decides: the same notifications with the
same values in the why, and the same trigger states but for the last value seen, which such
a window no longer records.

Same rules, batches and set-up as `test_fast_path`: one tenant ingests with fired windows
skipped, the other with every window stepped (the ingest cache's switch)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import event

from tests.api.conftest import FrozenApi
from tests.engine.evaluation.test_fast_path import (
    HOURS,
    _decided,
    _readings,
    _states,
    deliveries,
    over,
    subscribe_every_rule,
    tenants,
)
from tests.fixtures.api import TenantHandle
from tests.fixtures.rules import berlin, post_readings

__all__ = ["tenants"]  # the fixture, used below by name


def _without_last_value(states: list[Any]) -> list[Any]:
    found = []
    for rule, start, end, state, _ in states:
        data = json.loads(state) if isinstance(state, str) else dict(state)
        data.pop("last_value", None)
        found.append((rule, start, end, data))
    return found


@over(deliveries())
def test_skipping_fired_windows_decides_exactly_what_stepping_them_decides(
    frozen: FrozenApi, tenants: tuple[TenantHandle, TenantHandle], delivery: dict[str, Any]
) -> None:
    api, cache = frozen.api, frozen.runtime.cache
    skipping, stepping = subscribe_every_rule(api, tenants, delivery)
    now = berlin(HOURS + 1)
    skipped = 0
    try:
        for batch, minutes in zip(delivery["batches"], delivery["advance"], strict=True):
            now += timedelta(minutes=minutes)
            frozen.clock.set(now)
            answers = []
            for sub, on in ((skipping, True), (stepping, False)):
                cache.skip_fired = on
                answer = post_readings(api, sub.tenant, _readings(sub.ref, batch))
                answer.pop("batch", None)
                answers.append(answer)
            assert answers[0] == answers[1]
            skipped += sum(len(e.fired) for e in cache._tenants.values())
    finally:
        cache.skip_fired = True

    decided = _decided(frozen, skipping.tenant, skipping.id)
    assert decided == _decided(frozen, stepping.tenant, stepping.id)
    assert _without_last_value(_states(frozen, skipping.id)) == _without_last_value(
        _states(frozen, stepping.id)
    )
    event(f"fired windows known: {'some' if skipped else 'none'}")
    left_alone = _states(frozen, skipping.id) != _states(frozen, stepping.id)
    event(f"a fired window left alone (its last value differs): {left_alone}")
