"""The customer's own settings under /v1/me: profile, consent, preferences, history, privacy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from engine.models import ContactPoint, Customer, HistoryEntry
from engine.processes.runtime import Runtime
from tests.api.conftest import FrozenApi
from tests.fixtures.api import Api, TenantHandle


def _me(api: Api, **fields: Any) -> tuple[TenantHandle, dict[str, Any], dict[str, str]]:
    tenant = api.tenant()
    customer = api.customer(tenant, **fields)
    return tenant, customer, api.token(tenant, customer["id"])


def _history(api: Api, token: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok(
        "GET", "/v1/me/history", token, params={"limit": 500, **params}
    )["items"]
    return items


def test_profile_read_and_change(api: Api) -> None:
    _, customer, token = _me(api, name="Ada", email="ada@example.com")
    assert api.ok("GET", "/v1/me", token) == customer

    changed = api.ok(
        "PATCH", "/v1/me", token, json={"name": "Ada King", "locale": "fr-ch", "timezone": "UTC"}
    )
    assert (changed["name"], changed["locale"], changed["timezone"]) == ("Ada King", "fr-CH", "UTC")
    assert api.ok("GET", "/v1/me", token) == changed
    [entry] = _history(api, token, kind="profile")
    assert entry["data"]["by"] == "customer"


def test_profile_rejects_bad_and_business_only_fields(api: Api) -> None:
    _, customer, token = _me(api, name="Ada")
    for change, loc in (
        ({"timezone": "Europe/Atlantis"}, ["body", "timezone"]),
        ({"locale": "x"}, ["body", "locale"]),
        ({"external_id": "mine"}, ["body", "external_id"]),
        ({"attributes": {"tariff": "free"}}, ["body", "attributes"]),
    ):
        body = api.problem("PATCH", "/v1/me", token, 422, json=change)
        assert body["errors"][0]["loc"] == loc
    assert api.ok("GET", "/v1/me", token) == customer


def test_consent_grant_and_revoke_per_channel_and_topic(frozen: FrozenApi) -> None:
    api = frozen.api
    _, _, token = _me(api)
    granted_at = frozen.clock.now()
    api.ok("POST", "/v1/me/consents", token, json={"channel": "email", "granted": True})
    api.ok(
        "POST",
        "/v1/me/consents",
        token,
        json={"channel": "sms", "topic": "billing", "granted": True},
    )
    frozen.clock.advance(timedelta(minutes=5))
    consents = api.ok(
        "POST",
        "/v1/me/consents",
        token,
        json={"channel": "sms", "topic": "billing", "granted": False},
    )

    state = {(c["channel"], c["topic"]): c for c in consents}
    assert state.keys() == {("email", "*"), ("sms", "billing")}
    assert state["email", "*"]["granted"] is True
    assert state["sms", "billing"]["granted"] is False
    assert state["sms", "billing"]["source"] == "api"
    assert state["sms", "billing"]["changed_at"] == frozen.clock.now().isoformat().replace(
        "+00:00", "Z"
    )
    assert api.ok("GET", "/v1/me/consents", token) == consents

    entries = _history(api, token, kind="consent")
    assert [(e["channel"], e["data"]["topic"], e["data"]["granted"]) for e in entries] == [
        ("sms", "billing", False),
        ("sms", "billing", True),
        ("email", "*", True),
    ]
    assert all(e["data"]["source"] == "api" for e in entries)
    assert entries[-1]["occurred_at"].startswith(granted_at.strftime("%Y-%m-%dT%H:%M"))


def test_repeating_a_consent_writes_no_new_entry(api: Api) -> None:
    _, _, token = _me(api)
    for _ in range(3):
        api.ok("POST", "/v1/me/consents", token, json={"channel": "voice", "granted": True})
    assert len(_history(api, token, kind="consent")) == 1


def test_consent_rejects_unknown_channel_and_bad_topic(api: Api) -> None:
    _, _, token = _me(api)
    for change, loc in (
        ({"channel": "fax", "granted": True}, ["body", "channel"]),
        ({"channel": "sms", "topic": "Bad Topic!", "granted": True}, ["body", "topic"]),
        ({"channel": "sms", "granted": "maybe"}, ["body", "granted"]),
        ({"channel": "sms"}, ["body", "granted"]),
    ):
        body = api.problem("POST", "/v1/me/consents", token, 422, json=change)
        assert body["errors"][0]["loc"] == loc
    assert api.ok("GET", "/v1/me/consents", token) == []
    assert _history(api, token) == []


def test_preferences_change_and_each_change_is_in_history(api: Api) -> None:
    _, _, token = _me(api)
    defaults = api.ok("GET", "/v1/me/preferences", token)
    assert defaults["channel_order"] == ["email", "sms", "voice"]
    assert defaults["urgent_override"] is False

    quiet = {
        "sms": [{"start": "21:00", "end": "08:00", "days": [4, 0, 1, 2, 3]}],
        "voice": [{"start": "00:00", "end": "23:59", "days": [5, 6]}],
    }
    changes: list[dict[str, Any]] = [
        {"channel_order": ["sms", "email"]},
        {"quiet_hours": quiet},
        {"frequency_caps": {"sms": {"max": 3, "per": "day"}, "email": {"max": 10, "per": "week"}}},
        {"urgent_override": True},
    ]
    for change in changes:
        api.ok("PATCH", "/v1/me/preferences", token, json=change)

    prefs = api.ok("GET", "/v1/me/preferences", token)
    assert prefs["channel_order"] == ["sms", "email"]
    assert prefs["quiet_hours"]["sms"] == [
        {"start": "21:00", "end": "08:00", "days": [0, 1, 2, 3, 4]}
    ]
    assert prefs["quiet_hours"]["voice"][0]["days"] == [5, 6]
    assert prefs["frequency_caps"]["sms"] == {"max": 3, "per": "day"}
    assert prefs["urgent_override"] is True
    entries = _history(api, token, kind="preference")
    assert [sorted(e["data"]["changed"]) for e in reversed(entries)] == [
        [next(iter(change))] for change in changes
    ]

    api.ok("PATCH", "/v1/me/preferences", token, json={"urgent_override": True})
    assert len(_history(api, token, kind="preference")) == len(changes)


def test_bad_preferences_are_422_and_change_nothing(api: Api) -> None:
    _, _, token = _me(api)
    before = api.ok("GET", "/v1/me/preferences", token)
    period = {"start": "21:00", "end": "08:00"}
    for change, loc in (
        ({"channel_order": ["sms", "sms"]}, ["body", "channel_order"]),
        ({"channel_order": ["pigeon"]}, ["body", "channel_order", 0]),
        ({"channel_order": []}, ["body", "channel_order"]),
        (
            {"quiet_hours": {"sms": [{**period, "start": "24:00"}]}},
            ["body", "quiet_hours", "sms", 0, "start"],
        ),
        (
            {"quiet_hours": {"sms": [{**period, "end": "8:00"}]}},
            ["body", "quiet_hours", "sms", 0, "end"],
        ),
        (
            {"quiet_hours": {"sms": [{**period, "days": [7]}]}},
            ["body", "quiet_hours", "sms", 0, "days"],
        ),
        (
            {"quiet_hours": {"sms": [{**period, "days": [1, 1]}]}},
            ["body", "quiet_hours", "sms", 0, "days"],
        ),
        (
            {"quiet_hours": {"sms": [{**period, "days": []}]}},
            ["body", "quiet_hours", "sms", 0, "days"],
        ),
        (
            {"quiet_hours": {"sms": [{"start": "08:00", "end": "08:00"}]}},
            ["body", "quiet_hours", "sms", 0],
        ),
        ({"frequency_caps": {"sms": {"max": 0}}}, ["body", "frequency_caps", "sms", "max"]),
        (
            {"frequency_caps": {"sms": {"max": 3, "per": "year"}}},
            ["body", "frequency_caps", "sms", "per"],
        ),
        ({"urgent_override": "sometimes"}, ["body", "urgent_override"]),
    ):
        body = api.problem("PATCH", "/v1/me/preferences", token, 422, json=change)
        assert body["errors"][0]["loc"] == loc, (change, body["errors"])
    assert api.ok("GET", "/v1/me/preferences", token) == before
    assert _history(api, token) == []


def test_history_is_newest_first_paginated_and_filterable(api: Api) -> None:
    _, _, token = _me(api)
    changes = [
        ("/v1/me/consents", "POST", {"channel": "email", "granted": True}),
        ("/v1/me/consents", "POST", {"channel": "sms", "granted": True}),
        ("/v1/me/preferences", "PATCH", {"urgent_override": True}),
        ("/v1/me/consents", "POST", {"channel": "sms", "granted": False}),
        ("/v1/me/preferences", "PATCH", {"channel_order": ["voice"]}),
    ]
    for path, method, body in changes:
        api.ok(method, path, token, json=body)

    everything = _history(api, token)
    assert [e["kind"] for e in everything] == [
        "preference",
        "consent",
        "preference",
        "consent",
        "consent",
    ]
    times = [e["occurred_at"] for e in everything]
    assert times == sorted(times, reverse=True)

    paged: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.ok("GET", "/v1/me/history", token, params=params)
        paged.extend(e["id"] for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [e["id"] for e in everything]

    sms = _history(api, token, channel="sms")
    assert [(e["kind"], e["data"]["granted"]) for e in sms] == [
        ("consent", False),
        ("consent", True),
    ]
    prefs = _history(api, token, kind="preference")
    assert [e["id"] for e in prefs] == [everything[0]["id"], everything[2]["id"]]
    both = _history(api, token, kind=["preference", "consent"], channel="email")
    assert [e["id"] for e in both] == [everything[4]["id"]]
    api.problem("GET", "/v1/me/history", token, 422, params={"kind": "gossip"})
    api.problem("GET", "/v1/me/history", token, 422, params={"channel": "fax"})


def test_export_holds_everything(api: Api) -> None:
    _, customer, token = _me(
        api,
        name="Ada",
        email="ada@example.com",
        phone="+4915123456789",
        attributes={"tariff": "green"},
    )
    api.ok("POST", "/v1/me/consents", token, json={"channel": "sms", "granted": True})
    api.ok("PATCH", "/v1/me/preferences", token, json={"channel_order": ["sms", "email"]})

    export = api.ok("GET", "/v1/me/export", token)
    assert export["customer"] == customer
    assert export["customer"]["email"] == "ada@example.com"
    assert export["customer"]["phone"] == "+4915123456789"
    assert [(c["channel"], c["granted"]) for c in export["consents"]] == [("sms", True)]
    assert export["preferences"]["channel_order"] == ["sms", "email"]
    assert {e["kind"] for e in export["history"]} == {"consent", "preference"}
    assert len(export["history"]) == len(_history(api, token))


def test_erasure_removes_personal_data_and_keeps_a_tombstone(api: Api, runtime: Runtime) -> None:
    tenant, customer, token = _me(
        api, name="Ada Lovelace", email="ada@example.com", phone="+4915123456789"
    )
    api.ok("POST", "/v1/me/consents", token, json={"channel": "sms", "granted": True})
    api.ok("PATCH", "/v1/me", token, json={"name": "Ada King"})
    api.ok("PATCH", "/v1/me/preferences", token, json={"urgent_override": True})
    entries_before = len(_history(api, token))

    api.ok("DELETE", "/v1/me", token, 204)

    api.problem("GET", f"/v1/customers/{customer['id']}", tenant.ops, 404)
    api.problem("GET", f"/v1/customers/{customer['id']}/history", tenant.ops, 404)
    assert api.list_customer_ids(tenant) == []
    for path in ("/v1/me", "/v1/me/export", "/v1/me/history"):
        api.problem("GET", path, token, 401)
    api.problem("POST", f"/v1/customers/{customer['id']}/tokens", tenant.feed, 404)
    with Session(runtime.db) as session:
        row = session.get(Customer, customer["id"])
        assert row is not None and row.erased_at is not None
        assert (row.name, row.external_id, row.attributes) == (None, None, {})
        contacts = session.scalar(
            select(func.count()).where(ContactPoint.customer_id == customer["id"])
        )
        entries = session.scalars(
            select(HistoryEntry).where(HistoryEntry.customer_id == customer["id"])
        ).all()
    assert contacts == 0
    assert len([e for e in entries if e.kind != "erasure"]) == entries_before
    assert [e.kind for e in entries].count("erasure") == 1
    stored = repr([(e.summary, e.data) for e in entries])
    assert "Ada" not in stored and "ada@example.com" not in stored


def test_external_id_is_free_again_after_erasure(api: Api) -> None:
    tenant, customer, token = _me(api, external_id="C-7")
    api.ok("DELETE", "/v1/me", token, 204)
    again = api.customer(tenant, external_id="C-7")
    assert again["id"] != customer["id"]
