"""One tenant's backlog never keeps another tenant's notification waiting: the dispatcher claims
fairly across tenants (each tenant's earliest due notifications first), and a tenant whose
renders take more than their share of a batch has the rest of its claim given back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from engine.models import HistoryEntry, Notification
from tests.engine.delivery.conftest import EMAIL_ONLY, World
from tests.fixtures.api import TenantHandle
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.fixtures.workload import notification_row, why

pytestmark = pytest.mark.anyio

BACKLOG = 30


def subscriber(world: World, tenant: TenantHandle, external_id: str) -> tuple[str, str]:
    """A customer of ``tenant`` consenting to email, with a daily-energy trigger: the trigger's
    and the customer's ids."""
    customer = world.api.customer(
        tenant,
        external_id=external_id,
        email=f"{external_id}@example.com",
        locale="en",
        consents=[{"channel": "email"}],
    )
    trigger = world.api.ok(
        "POST",
        "/v1/me/triggers",
        world.api.token(tenant, customer["id"]),
        201,
        json={"rule": DAILY_ENERGY["key"], "params": {"limit_kwh": 5}},
    )
    return trigger["id"], customer["id"]


def two_tenants(world: World) -> tuple[list[str], str]:
    """Tenant A (the world's) with ``BACKLOG`` notifications due over the last hour, tenant B
    with one due a minute ago, after all of A's: A's ids by due time, and B's id."""
    other = world.api.tenant("Nachbar Energie", email_from="alerts@nachbar.example")
    publish(world.api, other, DAILY_ENERGY)
    a_trigger = subscriber(world, world.tenant, "a1")
    b_trigger = subscriber(world, other, "b1")
    now = world.clock.now()
    context = why(now - timedelta(hours=12), now + timedelta(hours=12))

    def row(tenant_id: str, trigger: tuple[str, str], i: int, due: timedelta) -> dict[str, Any]:
        return notification_row(
            tenant_id, trigger, f"fair:{i}", now - due, channel="email", context=context, now=now
        )

    a_rows = [row(world.tenant.id, a_trigger, i, timedelta(minutes=60 - i)) for i in range(BACKLOG)]
    b_row = row(other.id, b_trigger, 0, timedelta(minutes=1))
    with world.runtime.services() as services:
        services.session.execute(insert(Notification), [*a_rows, b_row])
    return [str(r["id"]) for r in a_rows], str(b_row["id"])


def statuses(world: World) -> dict[str, tuple[str, str | None]]:
    with world.runtime.services() as services:
        rows = services.session.execute(
            select(Notification.id, Notification.status, Notification.lease_owner)
        )
        return {nid: (str(status), owner) for nid, status, owner in rows}


def recipients(world: World) -> list[str]:
    return [to for m in world.smtp.handler.received for to in m.rcpt_tos]


@EMAIL_ONLY
async def test_the_first_claimed_batch_holds_the_other_tenants_one_notification(
    world: World,
) -> None:
    a_ids, b_id = two_tenants(world)
    world.dispatcher.batch_size = 5
    # What is claimed, not the render share (the next test): on a loaded machine A's first
    # render alone can take longer than its 0.1 s share, which gives A's other three back.
    world.dispatcher.service.tenant_render_share = 60.0

    assert await world.dispatcher.run_once() == 5

    sent = recipients(world)
    assert sent.count("b1@example.com") == 1  # B's one, though due after all of A's
    assert sent.count("a1@example.com") == 4  # and A's earliest four
    now = statuses(world)
    assert now[b_id][0] == "sent"
    assert [nid for nid in a_ids if now[nid][0] == "sent"] == a_ids[:4]


@EMAIL_ONLY
async def test_a_tenant_past_its_render_share_gives_the_rest_of_its_claim_back_quietly(
    world: World,
) -> None:
    a_ids, b_id = two_tenants(world)
    world.dispatcher.batch_size = 6
    world.dispatcher.service.tenant_render_share = 0.0  # any render uses up a tenant's share

    assert await world.dispatcher.run_once() == 2  # one of A's, B's; A's other four given back

    assert sorted(recipients(world)) == ["a1@example.com", "b1@example.com"]
    now = statuses(world)
    assert now[b_id][0] == "sent" and now[a_ids[0]][0] == "sent"
    assert all(now[nid] == ("pending", None) for nid in a_ids[1:])  # due again, no lease
    with world.runtime.services() as services:
        noted = services.session.scalars(
            select(HistoryEntry.notification_id).where(
                HistoryEntry.notification_id.in_(a_ids[1:])  # type: ignore[attr-defined]
            )
        ).all()
    assert noted == []  # giving back leaves no history

    world.dispatcher.service.tenant_render_share = 60.0
    handled = await world.dispatch(cycles=20)
    assert handled == BACKLOG - 1
    assert recipients(world).count("a1@example.com") == BACKLOG
