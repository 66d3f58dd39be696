"""A sent message is in one language: the fallback chain that picks the template also picks
how its numbers, dates and units are written, and the rule's title is in that language."""

from __future__ import annotations

import pytest

from engine.processes.demo.rules import DAILY_ENERGY
from tests.engine.delivery.conftest import EMAIL_ONLY, World
from tests.fixtures.rules import publish

pytestmark = pytest.mark.anyio
TITLES = {"en": "Daily use", "de": "Täglicher Verbrauch"}


def sent_text(world: World, external_id: str) -> tuple[str, str]:
    [received] = world.smtp.handler.received
    mail = received.parsed()
    assert received.rcpt_tos == (f"{external_id}@example.com",)
    return str(mail["Subject"]), str(mail.get_body(("plain",)).get_content())


@EMAIL_ONLY
async def test_a_french_customer_of_a_german_tenant_reads_german_numbers_too(
    world: World,
) -> None:
    # No French templates: the tenant's default (de-DE) writes the text, and its numbers.
    world.customer("fr1", locale="fr-FR", timezone="Europe/Paris")
    world.trigger("fr1")
    world.cross_threshold("fr1", kwh=1234.5)
    assert await world.dispatch() == 1

    subject, text = sent_text(world, "fr1")
    assert "Stromverbrauch heute: 1.234,5 kWh" in subject
    assert "über Ihrem Limit von 5 kWh" in text
    assert "1 234,5" not in subject + text  # French grouping would be a space


@EMAIL_ONLY
async def test_the_rule_title_is_in_the_language_of_the_text(world: World) -> None:
    titled = {**DAILY_ENERGY, "key": "energy.titled", "title": TITLES}
    publish(world.api, world.tenant, titled)
    world.customer("fr2", locale="fr-FR", timezone="Europe/Paris")
    world.trigger("fr2", rule="energy.titled")
    world.cross_threshold("fr2", kwh=6.5)
    assert await world.dispatch() == 1

    _, text = sent_text(world, "fr2")
    assert "Ihr Stromverbrauch heute beträgt 6,5 kWh" in text
    assert "Sie haben „Täglicher Verbrauch“ mit einem Limit von 5 kWh eingerichtet" in text
    assert "Daily use" not in text


@EMAIL_ONLY
async def test_a_customer_without_a_name_is_not_greeted_with_a_gap(world: World) -> None:
    world.customer("n1", name=None)
    world.trigger("n1")
    world.cross_threshold("n1", kwh=6.5)
    assert await world.dispatch() == 1

    _, text = sent_text(world, "n1")
    assert text.startswith("Hallo,")
    assert "Hallo ," not in text
