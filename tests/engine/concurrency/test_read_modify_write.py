"""Rules, message templates and triggers changed by two ``nudge api`` processes at the same
instant: changes of different fields both stay, and a first write from two requests at once
makes one row and answers the loser as it would have answered it one after the other."""

from __future__ import annotations

from typing import Any

import pytest

from engine.processes.demo.rules import DAILY_ENERGY
from tests.engine.concurrency.conftest import Cluster2, call
from tests.engine.concurrency.support import deploy, ok
from tests.fixtures.api import bearer

pytestmark = pytest.mark.postgres

TRIALS = 15

TWO_PARAMS: dict[str, Any] = {
    **DAILY_ENERGY,
    "key": "energy.daily_between",
    "parameters": [
        {"name": "low", "type": "double", "min": 0, "max": 500, "default": 1},
        {"name": "high", "type": "double", "min": 0, "max": 500, "default": 100},
    ],
    "condition": "window.sum > params.low && window.sum < params.high",
}


def _statuses(answers: list[Any]) -> list[int]:
    return sorted(a.status_code for a in answers)


def test_rules(two_apis: Cluster2) -> None:
    ops = deploy(two_apis.first, 0, limit_kwh=1).ops
    for trial in range(TRIALS):
        rule = {**DAILY_ENERGY, "key": f"energy.race{trial}"}
        path = f"/v1/rules/{rule['key']}"
        created = two_apis.at_once([(i, call("POST", "/v1/rules", ops, json=rule)) for i in (0, 1)])
        assert _statuses(created) == [201, 409], [a.text for a in created]
        patches = [{"title": {"en": f"Title {trial}"}}, {"description": {"en": f"Why {trial}"}}]
        changed = two_apis.at_once(
            [(i, call("PATCH", path, ops, json=p)) for i, p in enumerate(patches)]
        )
        assert _statuses(changed) == [200, 200]
        draft = ok(two_apis.first.get(path, headers=ops))["draft"]
        assert (draft["title"], draft["description"]) == (
            patches[0]["title"],
            patches[1]["description"],
        )
        published = two_apis.at_once([(i, call("POST", f"{path}/publish", ops)) for i in (0, 1)])
        assert _statuses(published) == [200, 409], [a.text for a in published]
        versions = ok(two_apis.first.get(path, headers=ops))["versions"]
        assert [v["version"] for v in versions] == [1]


def test_templates(two_apis: Cluster2) -> None:
    ops = deploy(two_apis.first, 0, limit_kwh=1).ops
    for trial in range(TRIALS):
        body = {
            "key": f"race.t{trial}",
            "channel": "email",
            "locale": "en",
            "parts": {"subject": "Hello", "text": "Hello", "html": "<p>Hello</p>"},
        }
        created = two_apis.at_once(
            [(i, call("POST", "/v1/templates", ops, json=body)) for i in (0, 1)]
        )
        assert _statuses(created) == [201, 409], [a.text for a in created]
        patches = [
            {"channel": "email", "locale": "en", "parts": {"subject": f"Subject {trial}"}},
            {"channel": "email", "locale": "en", "parts": {"text": f"Text {trial}"}},
        ]
        path = f"/v1/templates/{body['key']}"
        changed = two_apis.at_once(
            [(i, call("PATCH", path, ops, json=p)) for i, p in enumerate(patches)]
        )
        assert _statuses(changed) == [200, 200]
        variants = ok(two_apis.first.get(path, headers=ops))["variants"]
        mine = [v for v in variants if (v["channel"], v["locale"]) == ("email", "en")]
        assert mine[0]["parts"] == {
            "subject": f"Subject {trial}",
            "text": f"Text {trial}",
            "html": "<p>Hello</p>",
        }


def test_triggers(two_apis: Cluster2) -> None:
    deployment = deploy(two_apis.first, 1, limit_kwh=1)
    client, ops, feed = two_apis.first, deployment.ops, deployment.feed
    ok(client.post("/v1/rules", json=TWO_PARAMS, headers=ops), 201)
    ok(client.post(f"/v1/rules/{TWO_PARAMS['key']}/publish", headers=ops))
    customer = deployment.customers[0]["id"]
    token = bearer(ok(client.post(f"/v1/customers/{customer}/tokens", headers=feed), 201)["token"])
    for trial in range(TRIALS):
        trigger = ok(
            client.post("/v1/me/triggers", json={"rule": TWO_PARAMS["key"]}, headers=token), 201
        )
        path = f"/v1/me/triggers/{trigger['id']}"
        low, high = float(trial), float(200 + trial)
        patches = [{"params": {"low": low}}, {"params": {"high": high}}]
        changed = two_apis.at_once(
            [(i, call("PATCH", path, token, json=p)) for i, p in enumerate(patches)]
        )
        assert _statuses(changed) == [200, 200]
        assert ok(client.get(path, headers=token))["params"] == {"low": low, "high": high}
        patches = [{"channels": ["sms", "email"]}, {"enabled": False}]
        changed = two_apis.at_once(
            [(i, call("PATCH", path, token, json=p)) for i, p in enumerate(patches)]
        )
        assert _statuses(changed) == [200, 200]
        found = ok(client.get(path, headers=token))
        assert (found["channels"], found["enabled"]) == (["sms", "email"], False)


def test_events(two_apis: Cluster2) -> None:
    """The same new event sent to both processes at once is stored once (the other answer
    counts a duplicate); two different versions of one new event are one accepted and one
    correction, never a 500."""
    deployment = deploy(two_apis.first, 1, limit_kwh=1)
    ref, feed = deployment.customers[0]["external_id"], deployment.feed
    for trial in range(TRIALS):
        bill = {
            "customer": ref,
            "type": "bill.issued",
            "id": f"same-{trial}",
            "occurred_at": "2026-01-01T08:00:00+01:00",
            "amount": 51.2,
            "currency": "EUR",
        }
        same = two_apis.at_once(
            [(i, call("POST", "/v1/feeds/events", feed, json=[bill])) for i in (0, 1)]
        )
        outcomes = sorted((ok(a)["accepted"], ok(a)["duplicate"]) for a in same)
        assert outcomes == [(0, 1), (1, 0)], [a.text for a in same]
        versions = [{**bill, "id": f"other-{trial}", "amount": amount} for amount in (10, 20)]
        both = two_apis.at_once(
            [(i, call("POST", "/v1/feeds/events", feed, json=[v])) for i, v in enumerate(versions)]
        )
        outcomes = sorted((ok(a)["accepted"], ok(a)["corrected"]) for a in both)
        assert outcomes == [(0, 1), (1, 0)], [a.text for a in both]
