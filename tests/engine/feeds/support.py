"""Where the real feed files live (``../shared/data``), and skipping when they are absent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def data_file(relative: str) -> Path:
    """A file under ``../shared/data``, or skip: a fresh clone has no ``../shared``."""
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"real feed data {path} is absent (it lives in ../shared/data beside the repo)")
    return path
