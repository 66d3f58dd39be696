"""Twilio signs the URL it called: nudge's public address, not the address a proxy in front of
nudge forwards to. A request whose signature covers the public URL is accepted; one signed
over the URL the app itself sees (the proxy's upstream) is refused, on every webhook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from api.app import create_app
from engine.platform.clock import SystemClock
from engine.processes.runtime import Runtime
from tests.conftest import make_settings

TOKEN = "twilio-test-auth-token"
UPSTREAM = "http://testserver"  # what the app sees: the proxy forwards here
ROUTES = ("status", "inbound", "voice")
PARAMS = {
    "status": {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"},
    "inbound": {"From": "+4915123456789", "To": "+4930555000111", "Body": "hello"},
    "voice": {"CallSid": "CA" + "0" * 32, "Digits": "1"},
}


@pytest.fixture(params=["https://hooks.stadtwerke.example", "https://stadtwerke.example/nudge/"])
def public(request: pytest.FixtureRequest) -> str:
    """The public base URL Twilio calls (at the root, or under a path prefix)."""
    base: str = request.param
    return base


@pytest.fixture
def client(db_url: str, tmp_path: Path, public: str) -> Iterator[TestClient]:
    settings = make_settings(
        db_url,
        tmp_path,
        public_base_url=public,
        twilio_auth_token=SecretStr(TOKEN),
        twilio_from_number="+4930555000111",
    )
    runtime = Runtime.from_settings(settings, SystemClock())
    with TestClient(create_app(runtime), base_url=UPSTREAM) as test_client:
        yield test_client
    runtime.db.dispose()


def _post(client: TestClient, route: str, signed_url: str, query: str = "") -> int:
    path = f"/v1/webhooks/twilio/{route}" + (f"?{query}" if query else "")
    signature = RequestValidator(TOKEN).compute_signature(signed_url, PARAMS[route])
    response = client.post(path, data=PARAMS[route], headers={"X-Twilio-Signature": signature})
    return response.status_code


@pytest.mark.parametrize("route", ROUTES)
def test_signed_over_the_public_url_is_accepted(
    client: TestClient, public: str, route: str
) -> None:
    url = f"{public.rstrip('/')}/v1/webhooks/twilio/{route}"
    assert _post(client, route, url) == 200


@pytest.mark.parametrize("route", ROUTES)
def test_signed_over_the_proxys_upstream_url_is_refused(client: TestClient, route: str) -> None:
    assert _post(client, route, f"{UPSTREAM}/v1/webhooks/twilio/{route}") == 403


@pytest.mark.parametrize("route", ROUTES)
def test_the_query_string_twilio_called_is_part_of_what_it_signed(
    client: TestClient, public: str, route: str
) -> None:
    url = f"{public.rstrip('/')}/v1/webhooks/twilio/{route}"
    assert _post(client, route, f"{url}?tenant=acme", query="tenant=acme") == 200
    assert _post(client, route, url, query="tenant=acme") == 403
