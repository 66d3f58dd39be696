"""The ``nudge`` command line: help everywhere, schema upgrade, an admin key printed once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from engine.platform.config import Settings, get_settings
from engine.processes.cli import app
from engine.processes.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("NUDGE_DATABASE_URL", url)
    monkeypatch.delenv("NUDGE_ADMIN_KEY", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "args",
    [[], ["--help"], ["db", "--help"], ["db", "upgrade", "--help"], ["keys", "create", "--help"]],
)
def test_help_everywhere(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert "Usage:" in result.output
    assert result.exit_code == (0 if args else 2)


def test_top_level_help_lists_the_commands() -> None:
    output = CliRunner().invoke(app, ["--help"]).output
    for command in ("serve", "api", "db", "keys"):
        assert command in output


def test_upgrade_then_admin_key_works_on_the_api(database_url: str) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    created = runner.invoke(app, ["keys", "create", "--role", "admin", "--name", "bootstrap"])
    assert created.exit_code == 0, created.output

    key = created.stdout.strip()
    assert key.startswith("nk_") and "\n" not in key
    assert key not in created.stderr
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    runtime = Runtime.from_settings(settings)
    with TestClient(create_app(runtime)) as client:
        headers = {"Authorization": f"Bearer {key}"}
        response = client.post("/v1/tenants", headers=headers, json={"name": "Acme"})
        assert response.status_code == 201, response.text
        assert client.get("/v1/customers", headers=headers).status_code == 403
    runtime.db.dispose()


def test_the_installed_command_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine.processes.cli", "keys", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "create" in result.stdout


def test_tenant_keys_need_a_tenant(database_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["keys", "create", "--role", "ops"])
    assert result.exit_code != 0
    assert "--tenant" in result.output
    assert "nk_" not in result.stdout
