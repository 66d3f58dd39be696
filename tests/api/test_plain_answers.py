"""Answers a newcomer can act on: a refused key says which one is needed, a JSON body sent
without its media type says so, a Green Button file that cannot be read gives one reason, and
a page names a topic the way the customer knows it."""

from __future__ import annotations

from engine.delivery.links import Unsubscribe, unsubscribe_url
from engine.platform.config import Settings
from tests.fixtures.api import Api
from tests.fixtures.delivery import subscriber

SECONDS_2026 = 1_767_225_600  # 2026-01-01T00:00:00Z


def test_a_refused_key_is_told_which_credential_it_needs(api: Api) -> None:
    tenant = api.tenant()
    body = api.problem("GET", "/v1/rules", tenant.feed, 403)
    assert body["detail"] == "a feed key may not do this; it needs an ops key"
    body = api.problem("GET", "/v1/customers", api.admin, 403)
    assert body["detail"] == "an admin key may not do this; it needs an ops key or a feed key"
    assert "Role." not in str(body) and "<" not in body["detail"]


def test_json_sent_as_form_data_names_the_missing_content_type(api: Api) -> None:
    # What `curl -d '{...}'` sends without -H "Content-Type: application/json".
    body = api.problem(
        "POST",
        "/v1/tenants",
        {**api.admin, "Content-Type": "application/x-www-form-urlencoded"},
        422,
        content=b'{"name": "Stadtwerke"}',
    )
    assert "Content-Type: application/json" in body["detail"]
    assert "application/x-www-form-urlencoded" in body["detail"]
    [error] = body["errors"]
    assert error["field"] == "body"


def test_a_body_that_is_json_but_not_an_object_keeps_its_own_message(api: Api) -> None:
    body = api.problem("POST", "/v1/tenants", api.admin, 422, json=["not", "an", "object"])
    assert "Content-Type" not in body["detail"]


def green_button_without_meter_reading(readings: int) -> bytes:
    intervals = "".join(
        f"<IntervalReading><timePeriod><duration>3600</duration>"
        f"<start>{SECONDS_2026 + 3600 * i}</start></timePeriod><value>{500 + i % 7}</value>"
        "</IntervalReading>"
        for i in range(readings)
    )
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id>'
        '<entry><link rel="self" href="/UP/1/MR/1/IB/1"/><content>'
        f'<IntervalBlock xmlns="http://naesb.org/espi">{intervals}</IntervalBlock>'
        "</content></entry></feed>"
    ).encode()


def test_green_button_without_a_meter_reading_answers_one_reason(api: Api) -> None:
    tenant = api.tenant()
    api.customer(tenant, external_id="meter-1")
    response = api.client.post(
        "/v1/feeds/greenbutton?customer=meter-1",
        headers={**tenant.feed, "Content-Type": "application/atom+xml"},
        content=green_button_without_meter_reading(8760),
    )
    assert response.status_code == 422, response.text
    assert len(response.content) < 2000
    body = response.json()
    assert "no MeterReading" in body["detail"]
    assert len(body["errors"]) == 1


def test_the_unsubscribe_page_names_the_topic_by_its_rules_in_the_messages_language(
    api: Api, settings: Settings
) -> None:
    # A French customer of a German tenant without French texts: German, as the messages.
    who = subscriber(api, email="zoe@example.com", consents=[{"channel": "email"}], locale="fr-FR")
    url = unsubscribe_url(settings, Unsubscribe(who.tenant.id, who.id, "email", "energy"))
    page = api.client.get(url.removeprefix(settings.public_base_url))
    assert page.status_code == 200, page.text
    assert '<html lang="de">' in page.text
    assert "zum Thema „Täglicher Stromverbrauch über Ihrem Limit“?" in page.text
    assert "zum Thema energy" not in page.text
