"""What an unexpected error and a database that cannot take writes look like to a client: a
problem+json answer (500, or 503 with Retry-After), a connection that stays usable, and a
/readyz that says not ready."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from engine.platform.db import make_engine
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import ADMIN_KEY
from tests.fixtures.postgres import free_port

PROBLEM = "application/problem+json"


def _serve(app: FastAPI) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def served(runtime: Runtime) -> Iterator[int]:
    app = create_app(runtime)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    yield from _serve(app)


def test_an_unexpected_error_is_problem_json_and_the_connection_stays_usable(served: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    conn.request("GET", "/boom")
    first = conn.getresponse()
    body = json.loads(first.read())
    sock = conn.sock

    assert first.status == 500 and first.getheader("content-type", "").startswith(PROBLEM)
    assert body["type"].endswith("/internal") and "a bug" not in json.dumps(body)
    assert (first.getheader("connection") or "").lower() != "close"

    conn.request("GET", "/healthz")
    second = conn.getresponse()
    assert second.status == 200 and json.loads(second.read()) == {"status": "ok"}
    assert conn.sock is sock  # the same connection carried both
    conn.close()


def _read_only_url(url: str) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    return url + "?options=-c%20default_transaction_read_only%3Don"


def test_a_read_only_database_answers_503_and_is_not_ready(db_url: str, tmp_path: Path) -> None:
    runtime = Runtime.from_settings(make_settings(_read_only_url(db_url), tmp_path))
    try:
        with TestClient(create_app(runtime)) as client:
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            for _ in range(2):  # and the next request fares no worse
                response = client.post("/v1/tenants", headers=admin, json={"name": "Acme"})
                assert response.status_code == 503, response.text
                assert response.headers["content-type"].startswith(PROBLEM)
                assert int(response.headers["retry-after"]) > 0
                assert response.json()["type"].endswith("/database-unavailable")
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["writable"] is False and ready.json()["database"] is True
            assert client.get("/healthz").status_code == 200
    finally:
        runtime.db.dispose()
    writable = make_engine(db_url)
    try:
        with writable.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM tenants")).scalar() == 0
    finally:
        writable.dispose()
