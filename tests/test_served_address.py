"""Links in messages and Twilio callbacks follow the address the server runs on, unless
NUDGE_PUBLIC_BASE_URL says where the public reaches it; the command line says how to set it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.platform.config import Settings, get_settings
from engine.processes.cli import app

ROOT = Path(__file__).resolve().parent.parent
NUDGE = Path(sys.executable).parent / "nudge"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in [n for n in os.environ if n.startswith("NUDGE_")]:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("127.0.0.1", 8101, "http://127.0.0.1:8101"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),
        ("::", 9000, "http://[::1]:9000"),
        ("nudge.internal", 80, "http://nudge.internal:80"),
    ],
)
def test_links_follow_the_served_host_and_port(
    clean_env: None, host: str, port: int, expected: str
) -> None:
    assert settings(host=host, port=port).public_base_url == expected


def test_the_environment_port_moves_the_links(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUDGE_PORT", "8101")
    assert settings().public_base_url == "http://127.0.0.1:8101"


def test_a_public_base_url_wins(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGE_PORT", "8101")
    monkeypatch.setenv("NUDGE_PUBLIC_BASE_URL", "https://alerts.example")
    assert settings().public_base_url == "https://alerts.example"
    assert settings(port=9000).public_base_url == "https://alerts.example"


@pytest.mark.parametrize("command", ["serve", "api"])
def test_host_and_port_have_help(command: str) -> None:
    output = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
    output = " ".join(output.replace("│", " ").split())
    assert "address to listen on (default: $NUDGE_HOST, else 127.0.0.1)" in output
    assert "port to listen on (default: $NUDGE_PORT, else 8000)" in output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_port_option_moves_the_links(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUDGE_")}
    env["NUDGE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'nudge.db'}"
    subprocess.run([NUDGE, "db", "upgrade"], env=env, cwd=tmp_path, check=True, timeout=120)
    port = free_port()
    server = subprocess.Popen(
        [NUDGE, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        deadline, lines = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            lines.append(line)
            if "links in messages point at" in line or not line:
                break
        assert f"links in messages point at http://127.0.0.1:{port}" in "".join(lines)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_import_into_an_unknown_tenant_names_the_tenant(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    readings = tmp_path / "readings.csv"
    readings.write_text(
        "customer,metric,start,duration,value,unit\n"
        "meter-1,electricity.consumption,2026-11-23T17:00:00+00:00,3600,7400,Wh\n"
    )
    result = runner.invoke(
        app, ["import", str(readings), "--tenant", "ten_nope"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2
    assert "tenant ten_nope not found" in " ".join(result.output.replace("│", " ").split())
    assert "external_id" not in result.output
