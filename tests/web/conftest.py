"""Page tests: an API whose settings send email to a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from engine.clock import SystemClock
from engine.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import Api
from tests.fixtures.smtp_server import SmtpServer


@pytest.fixture
def mail_api(db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Api]:
    """The API with email going to ``smtp_server``."""
    settings = make_settings(db_url, tmp_path, smtp_url=SecretStr(smtp_server.url))
    runtime = Runtime.from_settings(settings, SystemClock())
    with TestClient(create_app(runtime)) as client:
        yield Api(client)
    runtime.db.dispose()
