"""Fixtures for channel tests: a real SMTP server, the Twilio stub, settings pointing at them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from engine.platform.config import Settings
from tests.engine.channels.support import FROM_NUMBER, make_settings
from tests.fixtures.smtp_server import SmtpServer
from tests.fixtures.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioSpec, TwilioStub


@pytest.fixture
def smtp_settings(smtp_server: SmtpServer) -> Settings:
    return make_settings(
        smtp_url=SecretStr(smtp_server.url), smtp_from="Stadtwerke <news@stadtwerke.example>"
    )


@pytest.fixture
def twilio_settings(twilio_stub: TwilioStub) -> Settings:
    return make_settings(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=SecretStr(AUTH_TOKEN),
        twilio_from_number=FROM_NUMBER,
        twilio_api_base_url=twilio_stub.base_url,
    )


@pytest.fixture
def spec_path(twilio_spec: TwilioSpec) -> Path:
    return twilio_spec.path
