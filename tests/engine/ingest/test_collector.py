"""The garbage collector is held off while batches are ingested, on any number of threads,
and comes back as it was when the last of them ends, errors included."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from engine.ingest.collector import collector_held


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_enabled_again_when_the_last_overlapping_batch_ends() -> None:
    gc.enable()
    first_inside, second_done, release = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def long_batch() -> None:
        with collector_held():
            first_inside.set()
            release.wait(10)

    def short_batch() -> None:
        with collector_held():
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())  # the long batch still runs
        second_done.set()

    long = threading.Thread(target=long_batch)
    long.start()
    assert first_inside.wait(10)
    short = threading.Thread(target=short_batch)
    short.start()
    assert second_done.wait(10)
    release.set()
    long.join(10)
    short.join(10)
    assert seen == [False, False]
    assert gc.isenabled()


def test_a_failing_batch_gives_the_collector_back() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_held():
        assert not gc.isenabled()
        raise RuntimeError("refused")
    assert gc.isenabled()


def test_a_collector_switched_off_elsewhere_stays_off() -> None:
    gc.disable()
    with collector_held():
        pass
    assert not gc.isenabled()
