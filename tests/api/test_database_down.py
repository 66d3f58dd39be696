"""A database that does not answer at all (PostgreSQL down or unreachable): every request that
needs it is a 503 problem with Retry-After, nothing else breaks, and /readyz says not ready in
the shape the document gives it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine.platform.clock import SystemClock
from engine.platform.security import KEY_PREFIX
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.api import ADMIN_KEY, bearer
from tests.fixtures.postgres import free_port

PROBLEM = "application/problem+json"


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[TestClient]:
    """The API over a PostgreSQL address where nothing listens (connections are refused)."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nudge"
    runtime = Runtime.from_settings(make_settings(url, tmp_path), SystemClock())
    with TestClient(create_app(runtime)) as client:
        yield client
    runtime.db.dispose()


def test_requests_that_need_the_database_are_503_with_retry_after(
    unreachable: TestClient,
) -> None:
    admin, tenant_key = bearer(ADMIN_KEY), bearer(f"{KEY_PREFIX}0123456789.secret")
    for method, path, body in (
        ("POST", "/v1/tenants", {"name": "Acme"}),
        ("GET", "/v1/tenants/ten_missing", None),
        ("GET", "/v1/customers", None),  # a tenant key is looked up in the database
    ):
        headers = admin if path.startswith("/v1/tenants") else tenant_key
        response = unreachable.request(method, path, headers=headers, json=body)
        assert response.status_code == 503, (path, response.status_code, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert int(response.headers["retry-after"]) > 0
    assert unreachable.get("/healthz").status_code == 200


def test_readyz_answers_not_ready_as_documented(unreachable: TestClient) -> None:
    response = unreachable.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    documented = unreachable.get("/openapi.json").json()["paths"]["/readyz"]["get"]["responses"]
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in documented["503"]["content"]
