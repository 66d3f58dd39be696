"""``nudge import FILE`` with U+0000 in a value: the row is rejected naming its field, as any
other bad row is, on SQLite as on PostgreSQL (whose text cannot hold the character: the batch
failed there with a traceback, after earlier batches were stored), and the file's other rows
are imported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from engine.platform.config import Settings, get_settings
from engine.processes.cli import app
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import count_rows

NUL = "\x00"
METRIC = "electricity.consumption"


@pytest.fixture
def tenant_id(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A tenant with customers k-1 and k-2, and the command line pointed at its database."""
    runtime = Runtime.from_settings(settings)
    with TestClient(create_app(runtime)) as client:
        api = Api(client)
        tenant = api.tenant()
        for ref in ("k-1", "k-2"):
            api.customer(tenant, external_id=ref, timezone="Europe/Berlin")
    runtime.db.dispose()
    monkeypatch.setenv("NUDGE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("NUDGE_SECRET_KEY", "test-secret-key")
    get_settings.cache_clear()
    yield tenant.id
    get_settings.cache_clear()


def _row(customer: str, hour: int, **fields: str) -> dict[str, object]:
    return {
        "customer": customer,
        "metric": METRIC,
        "start": f"2026-11-02T{hour:02d}:00:00Z",
        "duration": 3600,
        "value": 1.5,
        "unit": "kWh",
        **fields,
    }


def _import(path: Path, tenant_id: str, *extra: str) -> str:
    result = CliRunner().invoke(app, ["import", str(path), "--tenant", tenant_id, *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.mark.parametrize(
    ("kind", "batch_size"), [("ndjson", "1"), ("ndjson", "5000"), ("json", "2")]
)
def test_json_rows_with_nul_are_rejected_naming_row_and_field(
    tenant_id: str, settings: Settings, tmp_path: Path, kind: str, batch_size: str
) -> None:
    rows = [
        _row("k-1", 0),
        _row(f"k-{NUL}", 1),
        _row("k-2", 2, unit=f"kWh{NUL}"),
        _row("k-2", 3, quality=f"estimated{NUL}"),
        _row("k-1", 4, metric=f"electricity{NUL}.consumption"),
        _row("k-2", 5),
    ]
    path = tmp_path / f"readings.{kind}"
    if kind == "ndjson":
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    else:
        path.write_text(json.dumps(rows))
    output = _import(path, tenant_id, "--batch-size", batch_size)
    for index, field in ((1, "customer"), (2, "unit"), (3, "quality"), (4, "metric")):
        assert f"row {index}, {field}: contains U+0000 (NUL)" in output, output
    runtime = Runtime.from_settings(settings)
    try:
        assert count_rows(runtime, "readings") == 2
    finally:
        runtime.db.dispose()


def test_a_csv_cell_with_nul_is_rejected_and_the_rest_imported(
    tenant_id: str, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "readings.csv"
    path.write_text(
        "customer,metric,start,duration,value,unit\n"
        f"k-1,{METRIC},2026-11-02T00:00:00Z,3600,1.5,kWh\n"
        f"k-2{NUL},{METRIC},2026-11-02T00:00:00Z,3600,1.5,kWh\n"
        f"k-2,{METRIC},2026-11-02T01:00:00Z,3600,1.5,kWh\n"
    )
    output = _import(path, tenant_id, "--batch-size", "1")
    assert "row 1, customer: contains U+0000 (NUL)" in output, output
    runtime = Runtime.from_settings(settings)
    try:
        assert count_rows(runtime, "readings") == 2
    finally:
        runtime.db.dispose()
