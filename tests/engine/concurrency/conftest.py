"""Two real ``nudge api`` processes over one PostgreSQL database, and a client that sends
requests to both at the same instant."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import database
from tests.fixtures.api import ADMIN_KEY
from tests.fixtures.postgres import Cluster, free_port

REPO = Path(__file__).resolve().parents[3]
STARTUP_SECONDS = 60
_LOGS: dict[str, Path] = {}


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh migrated PostgreSQL database of its own, dropped afterwards."""
    yield from database.postgres_database(pg_cluster)


def process_env(url: str, **extra: str) -> dict[str, str]:
    """What every process of one deployment shares (docs/operations.md)."""
    return {
        **os.environ,
        "NUDGE_DATABASE_URL": url,
        "NUDGE_ADMIN_KEY": ADMIN_KEY,
        "NUDGE_SECRET_KEY": "concurrency-test-secret",
        "NUDGE_PUBLIC_BASE_URL": "http://127.0.0.1:1",
        "NUDGE_LOG_LEVEL": "WARNING",
        **extra,
    }


@contextmanager
def api_process(url: str, command: str = "api", **extra: str) -> Iterator[str]:
    """``nudge api`` (or ``serve``) in a subprocess on a free loopback port; yields its base
    URL."""
    port = free_port()
    handle, name = tempfile.mkstemp(prefix="nudge-api-", suffix=".log")
    log = Path(name)
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.processes.cli", command, "--port", str(port)],
        env=process_env(url, **extra),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=handle,
    )
    os.close(handle)
    base = f"http://127.0.0.1:{port}"
    _LOGS[base] = log
    try:
        _wait_healthy(base, process, log)
        yield base
        if process.poll() is not None:
            raise RuntimeError(f"nudge api exited with {process.returncode}: {_tail(log)}")
    finally:
        _LOGS.pop(base, None)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.unlink(missing_ok=True)


def _tail(log: Path) -> str:
    """The end of what a process wrote to its log so far."""
    return log.read_text(errors="replace")[-4000:]


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nudge api exited with {process.returncode}: {_tail(log)}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nudge api did not answer /healthz within {STARTUP_SECONDS} s")


class Cluster2:
    """Clients of several api processes of one deployment."""

    def __init__(self, database_url: str, bases: Sequence[str]) -> None:
        self.database_url = database_url
        self.clients = [httpx.Client(base_url=b, timeout=120) for b in bases]

    def close(self) -> None:
        for client in self.clients:
            client.close()

    @property
    def first(self) -> httpx.Client:
        return self.clients[0]

    def at_once(
        self, calls: Sequence[tuple[int, Callable[[httpx.Client], httpx.Response]]]
    ) -> list[httpx.Response]:
        """Run each call on the process it names, all released together by a barrier."""
        barrier = threading.Barrier(len(calls))

        def run(index: int, call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
            barrier.wait(timeout=30)
            client = self.clients[index]
            try:
                return call(client)
            except httpx.TransportError as exc:
                log = _LOGS.get(str(client.base_url).rstrip("/"))
                said = _tail(log) if log is not None else "(no log)"
                raise AssertionError(f"{client.base_url}: {exc!r}; its log:\n{said}") from exc

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = [pool.submit(run, i, call) for i, call in calls]
            return [f.result(timeout=300) for f in futures]


@pytest.fixture
def two_apis(pg_url: str) -> Iterator[Cluster2]:
    """Two ``nudge api`` processes sharing one PostgreSQL database."""
    with ExitStack() as stack:
        bases = [stack.enter_context(api_process(pg_url)) for _ in range(2)]
        cluster = Cluster2(pg_url, bases)
        stack.callback(cluster.close)
        yield cluster


@pytest.fixture(params=["two-api-processes", "one-serve-process"])
def racing(request: pytest.FixtureRequest, pg_url: str, tmp_path: Path) -> Iterator[Cluster2]:
    """Clients of two ``nudge api`` processes, or two clients of one ``nudge serve``."""
    with ExitStack() as stack:
        if request.param == "two-api-processes":
            bases = [stack.enter_context(api_process(pg_url)) for _ in range(2)]
        else:
            outbox = str(tmp_path / "outbox")
            base = stack.enter_context(api_process(pg_url, "serve", NUDGE_OUTBOX_DIR=outbox))
            bases = [base, base]
        cluster = Cluster2(pg_url, bases)
        stack.callback(cluster.close)
        yield cluster


def call(method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
    """A request for `Cluster2.at_once`."""
    return lambda client: client.request(method, path, headers=headers, **kwargs)
