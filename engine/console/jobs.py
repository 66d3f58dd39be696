"""Long console work (the impact of a draft) runs beside the request; the page polls it.

Jobs live in this process's memory, tenant-scoped, the latest ``KEEP`` of them: a console
behind several API processes needs sticky sessions for the progress page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.platform.ids import new_id

log = logging.getLogger("nudge.console")
KEEP = 50


@dataclass
class Job:
    id: str
    tenant_id: str
    subject: str
    done: int = 0
    total: int = 0
    finished: bool = False
    result: Any = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.finished else 0)


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, tenant_id: str, subject: str, work: Callable[[Job], Any], **meta: Any) -> Job:
        job = Job(new_id("job"), tenant_id, subject, meta=meta)
        with self._lock:
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-KEEP]:
                del self._jobs[old]
        threading.Thread(target=self._run, args=(job, work), daemon=True).start()
        return job

    def running(self, tenant_id: str) -> Job | None:
        """The tenant's unfinished job, if any: one at a time per tenant."""
        with self._lock:
            return next(
                (j for j in self._jobs.values() if j.tenant_id == tenant_id and not j.finished),
                None,
            )

    def get(self, tenant_id: str, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.tenant_id == tenant_id else None

    @staticmethod
    def _run(job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job.result = work(job)
        except Exception as exc:  # shown on the progress page, logged with its trace
            log.exception("console job failed", extra={"job": job.id})
            job.error = getattr(exc, "detail", "") or type(exc).__name__
        finally:
            job.finished = True
