"""On SQLite, the writer gate lets the next writer in only once the previous one's COMMIT or
ROLLBACK has run: the next finds the write lock free at once, instead of meeting the one still
committing and waiting in SQLite's busy handler, which sleeps up to 100 ms between looks."""

from __future__ import annotations

import sqlite3
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.platform.db import WriterGate, make_engine, unit_of_work
from tests.fixtures.database import sqlite_copy


def _lock_free(database: str) -> bool:
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.parametrize("ends", ["commit", "rollback"])
def test_the_next_writer_is_let_in_once_the_transaction_has_ended(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ends: str
) -> None:
    url = sqlite_copy(sqlite_template, tmp_path)
    database = str(make_url(url).database)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        session.execute(text("CREATE TABLE writes (who TEXT NOT NULL)"))
    seen: list[tuple[bool, int]] = []
    real = WriterGate.leave

    def watched(self: WriterGate, holder: dict[Any, Any]) -> None:
        with sqlite3.connect(database) as reader:
            rows = reader.execute("SELECT count(*) FROM writes").fetchone()[0]
        seen.append((_lock_free(database), rows))
        real(self, holder)

    monkeypatch.setattr(WriterGate, "leave", watched)
    failing = pytest.raises(RuntimeError) if ends == "rollback" else nullcontext()
    with failing, unit_of_work(engine) as session:
        session.execute(text("INSERT INTO writes VALUES ('me')"))
        if ends == "rollback":
            raise RuntimeError("the work failed")
    monkeypatch.undo()
    engine.dispose()

    assert seen[0] == (True, 1 if ends == "commit" else 0)
