"""Waking dispatchers in other processes when new work falls due (PostgreSQL only).

A unit of work that creates due work announces it with ``NOTIFY``, which PostgreSQL delivers
when, and only if, the transaction commits; every dispatcher listens on its own connection and
wakes at once. In-process dispatchers are woken directly (`Runtime.wake`); on SQLite, other
processes find new work at their next sweep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger("nudge.delivery")
DUE_CHANNEL = "nudge_due"


def announces(database_url: str) -> bool:
    """Whether processes on this database can wake each other."""
    return make_url(database_url).get_backend_name() == "postgresql"


def announce_due(session: Session) -> None:
    """Wake every listening dispatcher once this transaction commits (no-op on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": DUE_CHANNEL})


async def listen_for_due(
    database_url: str, wake: Callable[[], None], *, retry_seconds: float = 5.0
) -> None:
    """Call ``wake`` whenever another process commits due work, until cancelled. A lost
    connection is reopened after ``retry_seconds``; each (re)connection wakes once, for what
    was announced while nobody listened."""
    conninfo = make_url(database_url).set(drivername="postgresql")
    dsn = conninfo.render_as_string(hide_password=False)
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {DUE_CHANNEL}")
                wake()
                async for _ in conn.notifies():
                    wake()
        except psycopg.Error as exc:
            log.warning("not listening for due work: %s; retrying", exc)
            await asyncio.sleep(retry_seconds)
