"""Voice calls through the dispatcher: what the call says and which keys it listens for."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from tests.engine.delivery.conftest import World
from tests.fixtures.rules import DAILY_ENERGY, publish

pytestmark = pytest.mark.anyio


def _call(world: World) -> ElementTree.Element:
    [request] = world.twilio.requests
    assert request.path.endswith("/Calls.json") and world.twilio.violations == []
    return ElementTree.fromstring(request.param("Twiml"))


def _spoken(element: ElementTree.Element) -> list[str]:
    return [say.text or "" for say in element.findall("Say")]


async def test_every_call_listens_for_9_and_says_it_once(world: World) -> None:
    world.customer("m1", channels=("voice",))
    world.trigger("m1", channels=["voice"])
    world.cross_threshold("m1")
    await world.dispatch()

    twiml = _call(world)
    gather = twiml.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    message, prompt = _spoken(gather)
    assert "Kilowattstunden" in message and "9" not in message
    assert prompt == "Drücken Sie die 9, um diese Anrufe zu beenden."
    assert _spoken(twiml) == ["Auf Wiederhören."]


async def test_a_call_that_asks_for_acknowledgement_offers_1(world: World) -> None:
    acked = {**DAILY_ENERGY, "key": "energy.ack", "requires_ack": True}
    publish(world.api, world.tenant, {**acked, "template_key": "energy.daily_above"})
    world.customer("m1", channels=("voice",))
    world.trigger("m1", rule="energy.ack", channels=["voice"])
    world.cross_threshold("m1")
    await world.dispatch()

    gather = _call(world).find("Gather")
    assert gather is not None
    assert _spoken(gather)[1] == (
        "Drücken Sie die 1 zum Bestätigen. Drücken Sie die 9, um diese Anrufe zu beenden."
    )
