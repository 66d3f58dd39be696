"""What goes out is exactly what the customer said: a revocation of all topics beats an older
topic grant, a preference change touches only what it names, and a fallback after a render
failure sends one message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.engine.delivery.conftest import EMAIL_ONLY, World

pytestmark = pytest.mark.anyio
NIGHT = datetime(2026, 6, 10, 23, 44, tzinfo=UTC)  # 01:44 in Berlin


def _sms_to(world: World, phone: str) -> int:
    return sum(1 for r in world.twilio.requests if r.param("To") == phone and r.status == 201)


async def test_revoking_sms_for_all_topics_beats_an_older_topic_grant(world: World) -> None:
    consents = [{"channel": "email"}, {"channel": "sms", "topic": "energy"}]
    world.customer("m1", consents=consents)
    world.trigger("m1", channels=["sms"])
    token = world.tokens["m1"]
    world.api.ok(
        "POST", "/v1/me/consents", token, json={"channel": "sms", "topic": "*", "granted": False}
    )
    grid = {
        (c["channel"], c["topic"]): c for c in world.api.ok("GET", "/v1/me/consents/grid", token)
    }
    assert not grid["sms", "energy"]["granted"]
    assert grid["sms", "energy"]["decided_by"]["topic"] == "*"
    assert grid["email", "energy"]["granted"]

    world.cross_threshold("m1")
    await world.dispatch()

    assert _sms_to(world, "+4915112345678") == 0
    [notification] = world.notifications()
    assert notification.status == "suppressed"
    assert "no sms consent for topic energy" in (notification.reason or "") or (
        "no channel left" in (notification.reason or "")
    )
    exported = world.api.ok("GET", "/v1/me/export", token)
    exported_grid = {(c["channel"], c["topic"]): c["granted"] for c in exported["consent_grid"]}
    assert exported_grid == {key: cell["granted"] for key, cell in grid.items()}


async def test_a_later_grant_of_one_topic_by_the_customer_sends_that_topic_again(
    world: World,
) -> None:
    world.customer("m1", consents=[{"channel": "sms"}])
    world.trigger("m1", channels=["sms"])
    token = world.tokens["m1"]
    world.api.ok("POST", "/v1/me/consents", token, json={"channel": "sms", "granted": False})
    world.api.ok(
        "POST",
        "/v1/me/consents",
        token,
        json={"channel": "sms", "topic": "energy", "granted": True},
    )
    grid = {
        (c["channel"], c["topic"]): c for c in world.api.ok("GET", "/v1/me/consents/grid", token)
    }
    assert grid["sms", "energy"]["granted"] and not grid["sms", "*"]["granted"]

    world.cross_threshold("m1")
    await world.dispatch()

    assert _sms_to(world, "+4915112345678") == 1


async def test_a_business_grant_after_the_customers_revocation_needs_its_source(
    world: World,
) -> None:
    customer = world.customer("m1", consents=[{"channel": "sms", "topic": "energy"}])
    world.trigger("m1", channels=["sms"])
    token = world.tokens["m1"]
    world.api.ok("POST", "/v1/me/consents", token, json={"channel": "sms", "granted": False})
    path = f"/v1/customers/{customer['id']}/consents"
    before = world.api.ok("GET", path, world.tenant.feed)

    problem = world.api.problem(
        "POST",
        path,
        world.tenant.feed,
        409,
        json={"channel": "sms", "topic": "energy", "granted": True},
    )
    assert "the customer revoked this consent (sms/* revoked" in problem["detail"]
    assert [(r["channel"], r["topic"], r["source"]) for r in problem["revocations"]] == [
        ("sms", "*", "api")
    ]
    assert world.api.ok("GET", path, world.tenant.feed) == before

    body = {
        "channel": "sms",
        "topic": "energy",
        "granted": True,
        "source": "signed form 2026-06-09",
    }
    consents = world.api.ok("POST", path, world.tenant.feed, json=body)
    [energy] = [c for c in consents if c["topic"] == "energy"]
    assert (energy["granted"], energy["actor"], energy["evidence"]) == (
        True,
        "business",
        "signed form 2026-06-09",
    )
    [entry, *_] = [e for e in world.history("m1") if e["kind"] == "consent"]
    assert entry["summary"] == (
        "sms consent granted for topic energy by the business (signed form 2026-06-09)"
    )
    world.cross_threshold("m1")
    await world.dispatch()
    assert _sms_to(world, "+4915112345678") == 1


async def test_a_business_may_always_revoke_and_grant_where_the_customer_said_nothing(
    world: World,
) -> None:
    customer = world.customer("m1", consents=[{"channel": "email"}])
    path = f"/v1/customers/{customer['id']}/consents"
    world.api.ok("POST", path, world.tenant.feed, json={"channel": "sms", "granted": True})
    world.api.ok("POST", path, world.tenant.feed, json={"channel": "email", "granted": False})
    consents = {
        (c["channel"], c["topic"]): c["granted"]
        for c in world.api.ok("GET", path, world.tenant.feed)
    }
    assert consents == {("email", "*"): False, ("sms", "*"): True}


async def test_quiet_hours_for_sms_keep_the_voice_default(world: World) -> None:
    world.customer("m1", channels=("sms", "voice"))
    world.trigger("m1", channels=["voice", "sms"])
    token = world.tokens["m1"]
    night = {"start": "22:00", "end": "07:00"}
    prefs = world.api.ok(
        "PATCH",
        "/v1/me/preferences",
        token,
        json={"channel_order": ["voice", "sms"], "quiet_hours": {"sms": [night]}},
    )
    assert prefs["quiet_hours"]["voice"] == [
        {"start": "21:00", "end": "08:00", "days": [0, 1, 2, 3, 4, 5, 6]}
    ]
    assert prefs["quiet_hours_origin"] == {"voice": "default", "sms": "customer"}
    assert world.api.ok("GET", "/v1/me/preferences", token) == prefs

    world.clock.set(NIGHT)
    world.cross_threshold("m1")
    await world.dispatch()

    calls = [r for r in world.twilio.requests if r.resource == "Calls"]
    assert calls == [] and _sms_to(world, "+4915112345678") == 0
    [notification] = world.notifications()
    assert notification.status == "deferred" and notification.channel == "voice"
    assert notification.due_at == datetime(2026, 6, 11, 6, 0, tzinfo=UTC)  # 08:00 in Berlin


async def test_null_brings_back_a_channels_default_and_other_settings_stay(world: World) -> None:
    world.customer("m1", channels=("sms", "voice"))
    token = world.tokens["m1"]
    world.api.ok(
        "PATCH",
        "/v1/me/preferences",
        token,
        json={
            "quiet_hours": {"voice": [], "sms": [{"start": "22:00", "end": "07:00"}]},
            "frequency_caps": {"sms": {"max": 2, "per": "day"}},
            "urgent_override": True,
        },
    )
    assert world.api.ok("GET", "/v1/me/preferences", token)["quiet_hours"]["voice"] == []

    prefs = world.api.ok(
        "PATCH", "/v1/me/preferences", token, json={"quiet_hours": {"voice": None}}
    )
    assert prefs["quiet_hours"]["voice"][0]["start"] == "21:00"
    assert prefs["quiet_hours"]["sms"][0]["start"] == "22:00"
    assert prefs["frequency_caps"] == {"sms": {"max": 2, "per": "day"}}
    assert prefs["urgent_override"] is True

    prefs = world.api.ok("PATCH", "/v1/me/preferences", token, json={"frequency_caps": None})
    assert prefs["frequency_caps"] == {} and prefs["quiet_hours"]["sms"][0]["start"] == "22:00"
    [latest, *_] = [e for e in world.history("m1") if e["kind"] == "preference"]
    assert latest["summary"] == "preferences changed: frequency_caps"
    assert latest["data"]["previous"]["frequency_caps"] == {"sms": {"max": 2, "per": "day"}}


BROKEN_SMS = {"text": "{{ window.count // (window.count - window.count) }}"}


@EMAIL_ONLY
async def test_a_fallback_after_a_render_failure_sends_one_email(world: World) -> None:
    for locale in ("de", "en"):
        body = {
            "key": "energy.daily_above",
            "channel": "sms",
            "locale": locale,
            "parts": BROKEN_SMS,
        }
        world.api.ok("POST", "/v1/templates", world.tenant.ops, 201, json=body)
    world.customer("m1", channels=("sms", "email"))
    world.trigger("m1", channels=["sms", "email"])
    world.cross_threshold("m1")

    await world.dispatch(cycles=5)

    assert len(world.smtp.handler.received) == 1
    [notification] = world.notifications()
    assert notification.status == "sent" and notification.channel == "email"
    with world.runtime.services() as services:
        attempts = services.notifications.attempts([notification.id])
    assert [(a.channel, a.status) for a in attempts] == [("email", "sent")]
    history = world.history("m1")
    assert len([e for e in history if e["kind"] == "message"]) == 1
    assert any(
        e["summary"].startswith("fallback to email: sms message could not be rendered")
        for e in history
    )
