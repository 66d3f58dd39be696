"""Fixtures for the feed parsers."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.engine.feeds.support import NOW


@pytest.fixture
def now() -> datetime:
    """A fixed parse time (2026-01-01 12:00 UTC), later than every sample file."""
    return NOW
