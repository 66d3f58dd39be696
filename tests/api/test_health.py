"""Liveness, readiness against the migration head, and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from api.app import create_app
from engine.platform.migrations import alembic_config, upgrade
from engine.processes.runtime import Runtime
from tests.conftest import BACKENDS, make_settings
from tests.fixtures import database
from tests.fixtures.api import Api


@pytest.fixture(params=BACKENDS)
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A reachable database whose schema was never migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    yield from database.postgres_database(cluster, migrated=False)


def _client(url: str, tmp_path: Path) -> Iterator[TestClient]:
    runtime = Runtime.from_settings(make_settings(url, tmp_path))
    with TestClient(create_app(runtime)) as client:
        yield client
    runtime.db.dispose()


def test_healthz_and_readyz_at_head(api: Api) -> None:
    assert api.ok("GET", "/healthz", {}) == {"status": "ok"}
    ready = api.ok("GET", "/readyz", {})
    assert ready["status"] == "ready"
    assert ready["database"] is True
    assert ready["revision"] == ready["head"] is not None


def test_readyz_is_503_until_the_schema_is_at_head(unmigrated_url: str, tmp_path: Path) -> None:
    revisions = [r.revision for r in _script().walk_revisions()]  # head first
    for client in _client(unmigrated_url, tmp_path):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["revision"] is None
        assert response.json()["database"] is True
        assert client.get("/healthz").status_code == 200

        if len(revisions) > 1:
            upgrade(unmigrated_url, revisions[1])
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json()["revision"] == revisions[1]

        upgrade(unmigrated_url)
        assert client.get("/readyz").status_code == 200


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'nudge.db'}"
    for client in _client(url, tmp_path):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["database"] is False


def test_metrics_show_request_latency_by_route(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    api.ok("GET", f"/v1/customers/{customer['id']}", tenant.ops)

    response = api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE nudge_http_request_duration_seconds histogram" in text
    sample = (
        'nudge_http_request_duration_seconds_count{method="GET",'
        'route="/v1/customers/{customer_id}",status="200"}'
    )
    assert sample in text
    assert customer["id"] not in text
