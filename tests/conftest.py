"""Shared fixtures: databases on both backends, a runtime, an API client and factories."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr

from api.app import create_app
from engine.platform.clock import SystemClock
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from tests.fixtures import database
from tests.fixtures.api import ADMIN_KEY, Api
from tests.fixtures.postgres import Cluster, find_bin_dir, running_cluster
from tests.fixtures.smtp_server import SmtpServer
from tests.fixtures.twilio_stub import SPEC_PATH, TwilioSpec, TwilioStub

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
BACKENDS = ["sqlite", "postgres"]
NO_SHARED, SQLITE_ONLY = "NUDGE_TEST_NO_SHARED", "NUDGE_TEST_SQLITE_ONLY"

# `make mutation` runs each mutant against the same examples: a mutant is killed or not,
# never by luck of the draw or by a slow moment on a busy machine.
hypothesis_settings.register_profile("mutation", derandomize=True, database=None, deadline=None)


def _opted_out(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


# What this run could not test, by what it lacked; filled as tests skip for want of it.
_untested: dict[str, str] = {}


def _gaps() -> dict[str, str]:
    """What this machine lacks for a full run, unless the user opted out of it."""
    gaps = {}
    if not SHARED_DATA.is_dir() and not _opted_out(NO_SHARED):
        gaps["shared"] = (
            f"{SHARED_DATA} is absent: tests of real data files and of the Twilio contract "
            f"cannot run (check out ../shared beside the repo, or set {NO_SHARED}=1)"
        )
    if find_bin_dir() is None and not _opted_out(SQLITE_ONLY):
        gaps["postgres"] = (
            "no PostgreSQL server binaries (initdb, pg_ctl): PostgreSQL tests cannot run "
            "(run scripts/ensure-postgres.sh, set NUDGE_TEST_POSTGRES_BIN to a bin directory, "
            f"or set {SQLITE_ONLY}=1)"
        )
    return gaps


def _say(config: pytest.Config, lines: list[str]) -> None:
    """Lines on the terminal even under ``-q`` (the report header is not)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True, bold=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    lines = [f"NOT TESTABLE HERE (a run that needs it fails): {why}" for why in _gaps().values()]
    if _opted_out(SQLITE_ONLY):
        lines.append(f"PostgreSQL tests skipped on request ({SQLITE_ONLY}=1)")
    if _opted_out(NO_SHARED) and not SHARED_DATA.is_dir():
        lines.append(f"tests that need ../shared skipped on request ({NO_SHARED}=1)")
    _say(session.config, lines)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped:
        return
    reason = str(report.longrepr)
    gaps = _gaps()
    if "shared" in gaps and ("../shared" in reason or str(SHARED_DATA.parent) in reason):
        _untested["shared"] = gaps["shared"]
    if "postgres" in gaps and "PostgreSQL server binaries" in reason:
        _untested["postgres"] = gaps["postgres"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _untested and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last words, below pytest's own summary line."""
    _say(config, [f"NOT TESTED, so this run fails: {why}" for why in _untested.values()])


@pytest.fixture(autouse=True)
def _conditions_compiled_afresh_under_mutation() -> None:
    """Under `make mutation` each mutant compiles conditions itself: a cache filled before the
    mutant was switched on would otherwise hide it."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        from rules import condition

        condition._compile_cached.cache_clear()
        condition._environment.cache_clear()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; absent in a fresh clone: the test skips and the run fails (unless
    NUDGE_TEST_NO_SHARED=1)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (../shared beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    if _opted_out(SQLITE_ONLY):
        pytest.skip(f"PostgreSQL tests skipped on request ({SQLITE_ONLY}=1)")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail(
                "PostgreSQL server binaries are required in CI (scripts/ensure-postgres.sh)"
            )
        pytest.skip("no PostgreSQL server binaries (initdb/pg_ctl) on this machine")
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(running_cluster(bin_dir))
        except (OSError, subprocess.CalledProcessError) as exc:
            _untested["postgres"] = f"PostgreSQL could not start from {bin_dir}: {exc}"
            pytest.fail(_untested["postgres"])
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
        pytest.skip(f"Twilio OpenAPI file {SPEC_PATH} is absent (../shared not checked out)")
    return TwilioSpec(SPEC_PATH)


@pytest.fixture
def twilio_stub(twilio_spec: TwilioSpec) -> Iterator[TwilioStub]:
    """A local Twilio API that checks every request against Twilio's OpenAPI description."""
    with TwilioStub(twilio_spec) as stub:
        yield stub
