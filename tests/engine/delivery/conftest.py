"""A nudge world for delivery tests: real SMTP server, Twilio stub, a frozen clock, the API in
process and a dispatcher driven one cycle at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from engine.channels.registry import ChannelRegistry
from engine.delivery.dispatcher import Dispatcher
from engine.models import Notification
from engine.notifications.repository import NotificationRepository
from engine.platform.clock import FrozenClock
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import Api, TenantHandle
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.fixtures.smtp_server import SmtpServer
from tests.fixtures.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub

FROM_NUMBER = "+43720123456"
START = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # 12:00 in Berlin


@dataclass
class World:
    runtime: Runtime
    api: Api
    clock: FrozenClock
    dispatcher: Dispatcher
    tenant: TenantHandle
    smtp: SmtpServer
    twilio_stub: TwilioStub | None
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def twilio(self) -> TwilioStub:
        if self.twilio_stub is None:
            raise AssertionError("this world has no Twilio stub: use the `world` fixture")
        return self.twilio_stub

    def customer(
        self,
        external_id: str,
        *,
        channels: tuple[str, ...] = ("email",),
        quiet_hours: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        body = {
            "external_id": external_id,
            "name": "Anna",
            "locale": "de-DE",
            "timezone": "Europe/Berlin",
            "email": f"{external_id}@example.com",
            "phone": "+4915112345678",
            "consents": [{"channel": c} for c in channels],
            **fields,
        }
        customer = self.api.ok("POST", "/v1/customers", self.tenant.feed, 201, json=body)
        token = self.api.token(self.tenant, customer["id"])
        self.tokens[external_id] = token
        self.api.ok("PATCH", "/v1/me/preferences", token, json={"quiet_hours": quiet_hours or {}})
        return customer

    def trigger(
        self, external_id: str, rule: str = "energy.daily_above", **body: Any
    ) -> dict[str, Any]:
        payload = {"rule": rule, "params": {"limit_kwh": 5}, **body}
        result: dict[str, Any] = self.api.ok(
            "POST", "/v1/me/triggers", self.tokens[external_id], 201, json=payload
        )
        return result

    def cross_threshold(self, external_id: str, kwh: float = 6.0) -> None:
        start = self.clock.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        reading = {
            "customer": external_id,
            "metric": "electricity.consumption",
            "start": start.isoformat(),
            "duration": 3600,
            "value": kwh,
            "unit": "kWh",
        }
        self.api.ok("POST", "/v1/feeds/readings", self.tenant.feed, json=[reading])

    async def dispatch(self, cycles: int = 10) -> int:
        """Run dispatch cycles until nothing is due (at most ``cycles``)."""
        total = 0
        for _ in range(cycles):
            handled = await self.dispatcher.run_once()
            total += handled
            if handled == 0:
                break
        return total

    def notifications(self) -> list[Notification]:
        with self.runtime.services() as services:
            return NotificationRepository(services.session).page(
                self.tenant.id, after_id=None, limit=500
            )

    def history(self, external_id: str) -> list[dict[str, Any]]:
        page = self.api.ok("GET", "/v1/me/history?limit=200", self.tokens[external_id])
        items: list[dict[str, Any]] = page["items"]
        return items


def _world(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer, twilio_stub: TwilioStub | None
) -> Iterator[World]:
    twilio: dict[str, Any] = {}
    if twilio_stub is not None:
        twilio = {
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": SecretStr(AUTH_TOKEN),
            "twilio_from_number": FROM_NUMBER,
            "twilio_api_base_url": twilio_stub.base_url,
        }
    settings = make_settings(
        db_url,
        tmp_path,
        smtp_url=SecretStr(smtp_server.url),
        smtp_from="Stadtwerke <alerts@stadtwerke.example>",
        public_base_url="https://nudge.test",
        max_send_attempts=3,
        **twilio,
    )
    clock = FrozenClock(START)
    runtime = Runtime.from_settings(settings, clock)
    channels = ChannelRegistry.from_settings(settings)
    with TestClient(create_app(runtime)) as client:
        api = Api(client)
        tenant = api.tenant(email_from="alerts@stadtwerke.example", sms_from=FROM_NUMBER)
        publish(api, tenant, DAILY_ENERGY)
        yield World(
            runtime, api, clock, Dispatcher(runtime, channels), tenant, smtp_server, twilio_stub
        )
    runtime.db.dispose()


EMAIL_ONLY = pytest.mark.parametrize("world", ["email only"], indirect=True)


@pytest.fixture
def world(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> Iterator[World]:
    """Email through a real SMTP server; SMS and voice through the contract-checking Twilio
    stub, except in a test marked ``@EMAIL_ONLY`` (no Twilio: needs nothing from ../shared)."""
    email_only = getattr(request, "param", None) == "email only"
    stub = None if email_only else request.getfixturevalue("twilio_stub")
    yield from _world(db_url, tmp_path, smtp_server, stub)
