"""Console jobs: seen only by their tenant, one at a time per tenant, failures reported."""

from __future__ import annotations

import threading
import time

from engine.console.jobs import Job, Jobs
from engine.errors import InvalidInput


def _wait(job: Job) -> None:
    deadline = time.monotonic() + 5
    while not job.finished:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_job_is_its_tenants_alone_and_one_runs_at_a_time() -> None:
    jobs, release = Jobs(), threading.Event()

    def work(job: Job) -> int:
        job.progress(1, 2)
        release.wait(5)
        job.progress(2, 2)
        return 42

    job = jobs.start("ten_a", "energy.daily_above", work)
    assert jobs.running("ten_a") is job and jobs.running("ten_b") is None
    assert jobs.get("ten_b", job.id) is None and jobs.get("ten_a", job.id) is job
    release.set()
    _wait(job)
    assert (job.result, job.percent, jobs.running("ten_a")) == (42, 100, None)


def test_a_failing_job_says_why() -> None:
    def work(_: Job) -> None:
        raise InvalidInput("impact replays readings: threshold rules")

    job = Jobs().start("ten_a", "bill.issued_above", work)
    _wait(job)
    assert job.error == "impact replays readings: threshold rules" and job.result is None
