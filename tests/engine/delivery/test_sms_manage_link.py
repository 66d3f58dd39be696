"""Every SMS carries a short "manage your alerts" link: it opens the same question a signed
link asks, for that message's customer, and nothing nudge did not make."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.engine.delivery.conftest import World

pytestmark = pytest.mark.anyio
SHORT = re.compile(r"https://nudge\.test/m/(\S+)")


async def _sms_link(world: World) -> str:
    world.customer("m1", channels=("sms",))
    world.trigger("m1", channels=["sms"])
    world.cross_threshold("m1")
    await world.dispatch()
    [request] = [r for r in world.twilio.requests if r.resource == "Messages"]
    body = request.param("Body") or ""
    match = SHORT.search(body)
    assert match is not None, body
    assert len(match.group(0)) < 70
    return match.group(0).removeprefix("https://nudge.test")


async def test_an_sms_link_leads_to_its_customers_page(world: World) -> None:
    path = await _sms_link(world)

    opened = world.api.client.get(path, follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"].startswith("/me/link?token=")
    page = world.api.client.get(opened.headers["location"])
    assert page.status_code == 200 and "Weiter" in page.text  # asks before signing in
    assert 'name="token"' in page.text
    history = [e["summary"] for e in world.history("m1")]
    assert "signed in on the web page" not in history  # following a link changes nothing


async def test_a_tampered_or_old_sms_link_opens_nothing(world: World) -> None:
    path = await _sms_link(world)
    local, _, mac = path.removeprefix("/m/").partition(".")
    forged = f"/m/{local}.{'a' * len(mac)}"
    assert world.api.client.get(forged, follow_redirects=False).status_code == 403
    assert world.api.client.get("/m/nothing", follow_redirects=False).status_code == 403

    world.clock.advance(timedelta(days=31))
    assert world.api.client.get(path, follow_redirects=False).status_code == 403
