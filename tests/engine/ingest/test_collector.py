"""The garbage collector is held off while batches are ingested, on any number of threads,
and comes back as it was when the last of them ends, errors included; batches that keep
overlapping still have their garbage collected."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from engine.ingest.collector import collector_held


class _Cycle(list[object]):
    """A list that can be referred to weakly."""


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


def test_overlapping_batches_still_collect_cycles() -> None:
    gc.enable()
    threshold = gc.get_threshold()
    gc.set_threshold(100, threshold[1], threshold[2])
    try:
        first_inside, release = threading.Event(), threading.Event()

        def long_batch() -> None:
            with collector_held():
                first_inside.set()
                release.wait(10)

        long = threading.Thread(target=long_batch)
        long.start()
        assert first_inside.wait(10)
        with collector_held():
            cycle = _Cycle()
            cycle.append(cycle)
            probe = weakref.ref(cycle)
            del cycle
            kept = [[] for _ in range(200)]  # past the young generation's threshold
        assert kept
        assert probe() is None  # collected when this batch ended, the other still running
        assert not gc.isenabled()
        release.set()
        long.join(10)
        assert gc.isenabled()
    finally:
        gc.set_threshold(*threshold)
