"""The published default secret key signs tokens anyone can forge: production refuses to start
with it, development starts with a loud warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from engine.platform.config import DEFAULT_SECRET_KEY, Settings, get_settings
from engine.processes.cli import app
from engine.processes.tuning import UnsafeSettings, check_settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_production_refuses_the_default_secret_key() -> None:
    with pytest.raises(UnsafeSettings, match="NUDGE_SECRET_KEY is the published default"):
        check_settings(_settings(environment="production"))
    assert check_settings(_settings(environment="production", secret_key=SecretStr("x" * 40))) == []


def test_development_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="nudge.process"):
        problems = check_settings(_settings())
    assert _settings().secret_key.get_secret_value() == DEFAULT_SECRET_KEY
    assert problems and "published default" in problems[0]
    assert "unsafe setting" in caplog.text


@pytest.mark.parametrize("command", ["api", "worker"])
def test_the_server_commands_do_not_start_in_production_with_it(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("NUDGE_ENVIRONMENT", "production")
    monkeypatch.delenv("NUDGE_SECRET_KEY", raising=False)
    monkeypatch.setenv("NUDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'nudge.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, [command])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 2
    assert "nudge will not start" in result.output and "NUDGE_SECRET_KEY" in result.output
