"""One message per decision, on every path: a state machine drives the dispatcher through
random sequences of what can happen to a notification (render failures, permanent and
transient provider failures, missing contact points, revoked consent, escalation after no
acknowledgement, new decisions) against the real SMTP server and the Twilio stub, and checks
after every step, per notification: at most one message per channel, every message that
reached a server is exactly one recorded attempt, and every attempt is in the history."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import col, select

from engine.models import DeliveryAttempt, HistoryEntry, Notification
from tests.engine.delivery.conftest import World
from tests.fixtures.rules import DAILY_ENERGY, DAILY_ENERGY_ACKED, publish

CHANNELS = ("email", "sms", "voice")


def _breakable(channel: str, text: str) -> str:
    return f"{{% if customer.attributes.broken_{channel} %}}{{{{ 1 // 0 }}}}{{% endif %}}{text}"


TEMPLATES = {
    "email": {
        "subject": _breakable("email", "Strom: {{ window.sum }}"),
        "text": "Heute {{ window.sum }} kWh.",
        "html": "<p>Heute {{ window.sum }} kWh.</p>",
    },
    "sms": {"text": _breakable("sms", "Heute {{ window.sum }} kWh.")},
    "voice": {"text": _breakable("voice", "Heute {{ window.sum }} Kilowattstunden.")},
}


def _install_templates(world: World) -> None:
    publish(world.api, world.tenant, DAILY_ENERGY_ACKED)
    for channel, parts in TEMPLATES.items():
        body = {"key": "energy.daily_above", "channel": channel, "locale": "de", "parts": parts}
        world.api.ok("POST", "/v1/templates", world.tenant.ops, 201, json=body)


def _machine(world: World, runner: Any) -> type[RuleBasedStateMachine]:
    numbers = itertools.count(1)

    class Delivery(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            number = next(numbers)
            self.external_id = f"c{number}"
            self.email = f"c{number}@example.com"
            self.phone = f"+4915{number:09d}"
            self.attributes: dict[str, bool] = {}
            self.customer_id = ""

        @initialize(
            order=st.permutations(CHANNELS).flatmap(
                lambda p: st.integers(2, 3).map(lambda k: list(p[:k]))
            ),
            acked=st.booleans(),
            broken=st.sets(st.sampled_from(CHANNELS), max_size=2),
        )
        def sign_up(self, order: list[str], acked: bool, broken: set[str]) -> None:
            self.attributes = {f"broken_{channel}": channel in broken for channel in CHANNELS}
            customer = world.customer(
                self.external_id,
                channels=CHANNELS,
                email=self.email,
                phone=self.phone,
                attributes=self.attributes,
            )
            self.customer_id = customer["id"]
            rule_key = DAILY_ENERGY_ACKED["key"] if acked else DAILY_ENERGY["key"]
            world.trigger(self.external_id, rule=rule_key, channels=order)

        @rule(
            channel=st.sampled_from(CHANNELS),
            outcome=st.sampled_from(["ok", "transient", "permanent"]),
        )
        def provider_answers(self, channel: str, outcome: str) -> None:
            if channel == "email":
                if outcome == "ok":
                    world.smtp.handler.accept(self.email)
                else:
                    code = "451 4.3.0 try later" if outcome == "transient" else "550 5.1.1 gone"
                    world.smtp.handler.refuse(self.email, code)
            elif outcome == "ok":
                world.twilio.succeed(self.phone)
            elif outcome == "transient":
                world.twilio.fail(self.phone, status=503, code=20503)
            else:
                world.twilio.fail(self.phone, status=400, code=21211)

        @rule(channel=st.sampled_from(CHANNELS), broken=st.booleans())
        def template_renders(self, channel: str, broken: bool) -> None:
            self.attributes[f"broken_{channel}"] = broken
            self._patch({"attributes": dict(self.attributes)})

        @rule(kind=st.sampled_from(["email", "phone"]), present=st.booleans())
        def contact_point(self, kind: str, present: bool) -> None:
            address = self.email if kind == "email" else self.phone
            self._patch({kind: address if present else None})

        @rule(channel=st.sampled_from(CHANNELS), granted=st.booleans())
        def consent(self, channel: str, granted: bool) -> None:
            body = {"channel": channel, "granted": granted}
            token = world.api.token(world.tenant, self.customer_id)  # the clock moves on
            world.api.ok("POST", "/v1/me/consents", token, json=body)

        @rule()
        def new_decision(self) -> None:
            tomorrow = world.clock.now() + timedelta(days=1)
            world.clock.set(tomorrow.replace(hour=10, minute=0, second=0, microsecond=0))
            world.cross_threshold(self.external_id)

        @rule(minutes=st.sampled_from([0, 5, 31, 120]))
        def time_passes(self, minutes: int) -> None:
            world.clock.advance(timedelta(minutes=minutes))
            world.dispatcher.escalate_due()
            runner.run_until_complete(world.dispatch(cycles=5))

        @invariant()
        def one_message_per_decision(self) -> None:
            if self.customer_id:
                _check(world, self.customer_id, self.email, self.phone)

        def _patch(self, body: dict[str, Any]) -> None:
            path = f"/v1/customers/{self.customer_id}"
            world.api.ok("PATCH", path, world.tenant.feed, json=body)

    return Delivery


def _check(world: World, customer_id: str, email: str, phone: str) -> None:
    with world.runtime.services() as services:
        session = services.session
        notifications = list(
            session.exec(select(Notification).where(Notification.customer_id == customer_id))
        )
        ids = [n.id for n in notifications]
        attempts = list(
            session.exec(
                select(DeliveryAttempt).where(col(DeliveryAttempt.notification_id).in_(ids))
            )
        )
        history = list(
            session.exec(select(HistoryEntry).where(HistoryEntry.customer_id == customer_id))
        )
    reached = Counter(
        str(m.parsed()["Message-ID"]) for m in world.smtp.handler.received if email in m.rcpt_tos
    )
    reached.update(
        str(r.answer["sid"])
        for r in world.twilio.requests
        if r.param("To") == phone and r.status == 201
    )
    sent = [a for a in attempts if a.status == "sent"]
    assert reached == Counter(str(a.provider_id) for a in sent), "messages ≠ attempts"
    per_channel = Counter((a.notification_id, a.channel) for a in sent)
    assert max(per_channel.values(), default=0) <= 1, per_channel
    for n in notifications:
        entries = [e for e in history if e.notification_id == n.id]
        _explained(n, [a for a in attempts if a.notification_id == n.id], entries)


def _explained(
    n: Notification, attempts: list[DeliveryAttempt], entries: list[HistoryEntry]
) -> None:
    """Every attempt of ``n`` and where it stands now are in its history."""
    messages = [e for e in entries if e.kind == "message"]
    assert len(messages) == sum(1 for a in attempts if a.status == "sent")
    for channel in CHANNELS:
        failed = sum(1 for a in attempts if a.channel == channel and a.status != "sent")
        told = sum(
            1
            for e in entries
            if f"{channel} failed:" in e.summary
            or (f"{channel} attempt" in e.summary and "failed" in e.summary)
        )
        assert told == failed, (channel, told, failed, [e.summary for e in entries])
    if n.status in ("suppressed", "failed", "cancelled", "deferred"):
        decisions = [e for e in entries if e.kind == "decision"]
        assert decisions and decisions[-1].summary.startswith(f"{n.status}:"), [
            e.summary for e in entries
        ]


def test_one_message_per_channel_and_decision_on_every_path(world: World) -> None:
    _install_templates(world)
    runner = asyncio.new_event_loop()
    try:
        run_state_machine_as_test(
            _machine(world, runner),
            settings=settings(
                max_examples=25,
                stateful_step_count=14,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
            ),
        )
    finally:
        runner.run_until_complete(world.dispatcher.channels.aclose())
        runner.close()
