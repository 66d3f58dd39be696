"""Page tests: an API whose settings send email to a real SMTP server on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from engine.platform.clock import SystemClock
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import Api
from tests.fixtures.smtp_server import SmtpServer
from tests.web.browser import CHROMIUM, free_port, serving


@pytest.fixture
def mail_api(db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Api]:
    """The API with email going to ``smtp_server``."""
    settings = make_settings(db_url, tmp_path, smtp_url=SecretStr(smtp_server.url))
    runtime = Runtime.from_settings(settings, SystemClock())
    with TestClient(create_app(runtime)) as client:
        yield Api(client)
    runtime.db.dispose()


# A real browser -------------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SERIOUS = {"serious", "critical"}


@dataclass
class Live:
    """A running server with dispatch, its runtime, an API client on the same database, and
    the SMTP server its email goes to."""

    url: str
    runtime: Runtime
    api: Api
    smtp: SmtpServer


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium (Debian's package) for the page tests. Package scope, not the
    session's: Playwright's sync API keeps its event loop running in the main thread while it
    is open, and any later test's ``asyncio.run`` (``nudge demo`` dispatching) would fail."""
    chromium = os.environ.get("NUDGE_TEST_CHROMIUM", CHROMIUM)
    if not Path(chromium).is_file():
        pytest.skip(f"no Chromium at {chromium} (scripts/ensure-chromium.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def live(db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Live]:
    port = free_port()
    settings = make_settings(
        db_url,
        tmp_path,
        smtp_url=SecretStr(smtp_server.url),
        public_base_url=f"http://127.0.0.1:{port}",
        sweep_interval_seconds=0.2,
    )
    runtime = Runtime.from_settings(settings, SystemClock())
    with (
        serving(create_app(runtime, dispatch=True), port) as url,
        TestClient(create_app(runtime)) as client,
    ):
        yield Live(url, runtime, Api(client), smtp_server)
    runtime.db.dispose()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context and page; a screenshot is kept when the test fails."""
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        context.close()


def axe_violations(page: Any) -> list[str]:
    """Serious and critical axe-core findings on the page, as ``rule: target`` lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']]} ({page.url})"
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]
