"""What long-running nudge processes set up for themselves."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from engine.platform.config import Settings
from engine.processes.tuning import tune_garbage_collector


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


@pytest.mark.usefixtures("restored_gc")
def test_the_young_generation_is_collected_as_configured() -> None:
    _, middle, old = gc.get_threshold()
    tune_garbage_collector(Settings(_env_file=None, gc_threshold=12_345))
    assert gc.get_threshold() == (12_345, middle, old)
    assert gc.get_freeze_count() > 0  # what existed at startup is left out of collections


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="gc_threshold"):
        Settings(_env_file=None, gc_threshold=0)
