"""How many database transactions a process has open right now, counted from the engine's
own begin, commit and rollback events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


def open_transactions(engine: Engine) -> list[int]:
    """A one-item list holding the count of transactions open on ``engine``, kept current."""
    count = [0]

    def began(_connection: Any) -> None:
        count[0] += 1

    def ended(_connection: Any) -> None:
        count[0] -= 1

    for name, listener in (("begin", began), ("commit", ended), ("rollback", ended)):
        event.listen(engine, name, listener)
    return count
