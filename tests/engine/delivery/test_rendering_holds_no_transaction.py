"""Templates are tenant code: the dispatcher renders them with no database transaction open,
so a slow template cannot hold SQLite's write lock (or PostgreSQL row locks) against anyone."""

from __future__ import annotations

from typing import Any

import pytest

import engine.templating.pool as render_module
from tests.engine.delivery.conftest import EMAIL_ONLY, World
from tests.engine.delivery.transactions import open_transactions as count_open_transactions

pytestmark = pytest.mark.anyio


@EMAIL_ONLY
async def test_messages_are_rendered_with_no_transaction_open(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.customer("m1", channels=("email", "sms"))
    world.trigger("m1", channels=["email"])
    world.cross_threshold("m1")
    open_transactions = count_open_transactions(world.runtime.db)
    open_while_rendering: list[int] = []
    render = render_module.render

    def watched_render(*args: Any, **kwargs: Any) -> Any:
        open_while_rendering.append(open_transactions[0])
        return render(*args, **kwargs)

    monkeypatch.setattr(render_module, "render", watched_render)
    await world.dispatch()

    assert open_while_rendering == [0]
    assert len(world.smtp.handler.received) == 1
    [notification] = world.notifications()
    assert notification.status == "sent"


@EMAIL_ONLY
async def test_a_template_over_its_budget_fails_the_message_with_the_reason(
    world: World,
) -> None:
    slow = (
        "{% set l = customer.attributes.get('l', []) %}{% for a in l %}{% for b in l %}"
        "{% for c in l %}{% for d in l %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}Hi"
    )
    parts = {"subject": "Alert", "text": slow, "html": "<p>Alert</p>"}
    body = {"key": "energy.daily_above", "channel": "email", "locale": "de", "parts": parts}
    world.api.ok("POST", "/v1/templates", world.tenant.ops, 201, json=body)  # fine on samples
    world.customer("m1", attributes={"l": list(range(100))})
    world.trigger("m1", channels=["email"])
    world.cross_threshold("m1")

    await world.dispatch()

    assert world.smtp.handler.received == []
    [notification] = world.notifications()
    assert notification.status == "failed"
    assert "rendering took longer than 200 ms" in (notification.reason or "")
    assert any("longer than 200 ms" in e["summary"] for e in world.history("m1"))
