"""Shared set-up for benchmarks: a migrated database, a tenant, a server on a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from engine.platform.migrations import upgrade
from tests.fixtures.api import ADMIN_KEY

__all__ = ["ADMIN_KEY", "emit", "fresh_sqlite", "server"]


def emit(name: str, **values: Any) -> None:
    print(json.dumps({"benchmark": name, **values}), flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_sqlite(directory: Path, name: str = "bench.db") -> str:
    path = directory / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@contextmanager
def server(
    database_url: str,
    *,
    command: str = "api",
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """``nudge <command>`` in a subprocess on a free loopback port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "NUDGE_DATABASE_URL": database_url,
        "NUDGE_ADMIN_KEY": ADMIN_KEY,
        "NUDGE_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.processes.cli", command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start within 30 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
