"""An idle keep-alive connection stays open for ``NUDGE_KEEP_ALIVE_SECONDS`` and is closed
after it: a client (or a load balancer) reusing it within that time gets its answer."""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.engine.concurrency.conftest import api_process

pytestmark = pytest.mark.postgres


def _get(connection: socket.socket) -> bytes:
    """One whole answer to ``GET /healthz`` (b"" if the connection was closed)."""
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(65536)
        if not chunk:
            return answer
        answer += chunk
    head, body = answer.split(b"\r\n\r\n", 1)
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    while length is not None and len(body) < int(length.group(1)):
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _idle_then_get(base: str, idle_seconds: float) -> bytes:
    """A second request on one connection after ``idle_seconds`` of silence: its answer, or
    b"" if the server closed the connection meanwhile."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        assert _get(connection).startswith(b"HTTP/1.1 200")
        time.sleep(idle_seconds)
        try:
            return _get(connection)
        except (BrokenPipeError, ConnectionResetError):
            return b""


def test_by_default_an_idle_connection_outlives_a_proxy_pause(pg_url: str) -> None:
    """Longer than the 5 s many servers close at: a proxy's reused connection is still open."""
    with api_process(pg_url) as base:
        assert _idle_then_get(base, 6).startswith(b"HTTP/1.1 200")


def test_idle_connection_is_closed_after_the_setting(pg_url: str) -> None:
    with api_process(pg_url, NUDGE_KEEP_ALIVE_SECONDS="1") as base:
        assert _idle_then_get(base, 2) == b""
