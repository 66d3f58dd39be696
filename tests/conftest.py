"""Shared fixtures: databases on both backends, a runtime, an API client and factories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from engine.clock import SystemClock
from engine.config import Settings
from engine.runtime import Runtime
from tests.fixtures import database
from tests.fixtures.api import ADMIN_KEY, Api
from tests.fixtures.postgres import Cluster, find_bin_dir, running_cluster
from tests.fixtures.smtp_server import SmtpServer
from tests.fixtures.twilio_stub import SPEC_PATH, TwilioSpec, TwilioStub

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip when a fresh clone has no ``../shared``."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail(
                "PostgreSQL server binaries are required in CI (scripts/ensure-postgres.sh)"
            )
        pytest.skip("no PostgreSQL server binaries (initdb/pg_ctl) on this machine")
    with running_cluster(bin_dir) as cluster:
        database.postgres_template(cluster)
        yield cluster


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return database.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def pg_shared_url(pg_cluster: Cluster) -> Iterator[str]:
    """One migrated PostgreSQL database for the run, emptied after each test that used it."""
    yield from database.postgres_database(pg_cluster)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each backend: a fresh SQLite file per test, the shared
    PostgreSQL database truncated after each test."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        yield database.sqlite_copy(template, tmp_path)
        return
    url = request.getfixturevalue("pg_shared_url")
    try:
        yield url
    finally:
        database.truncate_all(url)


def make_settings(db_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url,
        "admin_key": SecretStr(ADMIN_KEY),
        "secret_key": SecretStr("test-secret-key"),
        "outbox_dir": tmp_path / "outbox",
        "public_base_url": "http://testserver",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.from_settings(settings, SystemClock())
    yield rt
    rt.db.dispose()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def twilio_spec() -> TwilioSpec:
    if not SPEC_PATH.is_file():
        pytest.skip(f"Twilio OpenAPI file {SPEC_PATH} is absent (../shared/data not checked out)")
    return TwilioSpec(SPEC_PATH)


@pytest.fixture
def twilio_stub(twilio_spec: TwilioSpec) -> Iterator[TwilioStub]:
    """A local Twilio API that checks every request against Twilio's OpenAPI description."""
    with TwilioStub(twilio_spec) as stub:
        yield stub
