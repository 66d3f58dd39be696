"""Rendering in worker processes: a tenant's template runs outside the serving process, so a
slow one never holds that process's interpreter lock (every other tenant's requests, ingest
and sends run there), and one that does not stop is killed at a hard timeout.

Workers are plain processes fed over a pipe, shared by every pool of this process (they hold
no state). A pool hands its workers out fairly: tenants take turns, and tenants whose renders
are slow never hold the last free worker, which stays for everyone else's quick messages.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from engine.errors import NudgeError
from engine.platform.fair import FairSlots
from engine.templating.errors import (
    TemplateInvalid,
    TemplateOverBudget,
    TemplateRenderFailed,
    TemplateUnsafe,
)
from engine.templating.render import RenderedMessage, render

# A render checks its budget in every loop; one stuck elsewhere (a filter over a huge value)
# is killed with its worker this long after it started.
HARD_TIMEOUT_SECONDS = 1.0
STARTUP_SECONDS = 60.0  # a new worker imports the renderer first (slow on a busy machine)
_READY = "ready"
_ERRORS: dict[str, type[NudgeError]] = {
    cls.__name__: cls
    for cls in (TemplateInvalid, TemplateOverBudget, TemplateRenderFailed, TemplateUnsafe)
}


@dataclass(frozen=True)
class RenderRequest:
    """What `render` takes: the parts of one template set, its context, locale and zone."""

    parts: Mapping[str, str]
    context: Mapping[str, Any]
    locale: str
    timezone: str


@dataclass(frozen=True)
class Rendered:
    """One request's outcome: the message or the domain error, and the seconds it took."""

    message: RenderedMessage | None
    error: NudgeError | None
    seconds: float


def render_here(request: RenderRequest) -> Rendered:
    """Render ``request`` in this process: the outcome, never an exception."""
    started = time.perf_counter()
    try:
        message = render(request.parts, request.context, request.locale, request.timezone)
        return Rendered(message, None, time.perf_counter() - started)
    except NudgeError as exc:
        return Rendered(None, exc, time.perf_counter() - started)
    except Exception as exc:  # the template is tenant input: whatever it raises is theirs
        error = TemplateRenderFailed(detail=f"{type(exc).__name__}: {exc}")
        return Rendered(None, error, time.perf_counter() - started)


def _serve(conn: Connection) -> None:
    """A worker: render each request of each batch received, answering one by one."""
    # Ctrl+C in a terminal reaches every process of the group. The process that owns this
    # worker stops it as it stops itself (and a closed pipe ends it): the worker ignores the
    # interrupt rather than die mid-render and print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn.send(_READY)
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        for request in batch:
            out = render_here(request)
            error = (type(out.error).__name__, out.error.detail) if out.error else None
            conn.send((out.message, error, out.seconds))


def _error(name: str, detail: str) -> NudgeError:
    return _ERRORS.get(name, TemplateRenderFailed)(detail=detail)


class _Worker:
    """One render process and its pipe; restarted when it is killed or dies."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        mine, theirs = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(theirs,), daemon=True, name="nudge-render"
        )
        self.process.start()
        theirs.close()
        self.conn = mine
        try:
            ready = mine.poll(STARTUP_SECONDS) and mine.recv() == _READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop()
            raise RuntimeError("a render worker did not start")

    def render(self, requests: Sequence[RenderRequest], hard_seconds: float) -> list[Rendered]:
        """Every request's outcome; one that runs past ``hard_seconds`` kills this worker and
        is over budget, and the rest are rendered by a new one (``replaced``)."""
        self.conn.send(list(requests))
        out: list[Rendered] = []
        for _ in requests:
            started = time.perf_counter()
            try:
                if not self.conn.poll(hard_seconds):
                    raise TimeoutError
                message, error, seconds = self.conn.recv()
            except (TimeoutError, EOFError, OSError) as exc:
                self.stop()
                stopped = time.perf_counter() - started
                detail = (
                    f"rendering took longer than {hard_seconds * 1000:g} ms and was stopped"
                    if isinstance(exc, TimeoutError)
                    else "the render process ended while rendering"
                )
                out.append(Rendered(None, TemplateOverBudget(detail=detail), stopped))
                raise _Replaced(out, len(out)) from exc
            out.append(Rendered(message, _error(*error) if error else None, seconds))
        return out

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class _Replaced(Exception):
    """A worker was killed after ``done`` requests (outcomes in ``out``)."""

    def __init__(self, out: list[Rendered], done: int) -> None:
        super().__init__(done)
        self.out = out
        self.done = done


class _Workers:
    """Idle render processes of this process, started on demand and stopped at exit."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
        return _Worker()

    def give(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def ensure(self, count: int) -> None:
        """Start idle workers until there are ``count`` (blocking: a start takes a moment)."""
        with self._lock:
            missing = count - len(self._idle)
        for _ in range(missing):
            self.give(_Worker())

    def stop_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


WORKERS = _Workers()
atexit.register(WORKERS.stop_all)


def render_in_worker(
    requests: Sequence[RenderRequest], hard_seconds: float = HARD_TIMEOUT_SECONDS
) -> list[Rendered]:
    """Render ``requests`` in one worker process (blocking): every request's outcome."""
    out: list[Rendered] = []
    while len(out) < len(requests):
        worker = WORKERS.take()
        try:
            out.extend(worker.render(requests[len(out) :], hard_seconds))
        except _Replaced as replaced:
            out.extend(replaced.out)
            continue
        WORKERS.give(worker)
    return out


class RenderPool:
    """At most ``size`` renders at once in worker processes, handed out fairly: the tenants
    waiting take turns, and a tenant marked slow may not take the last free worker (unless
    the pool has one). Used from one event loop."""

    def __init__(self, size: int, hard_seconds: float = HARD_TIMEOUT_SECONDS) -> None:
        self.size = size
        self.hard_seconds = hard_seconds
        self._slots = FairSlots(size)
        self._threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="nudge-render")

    def warm(self) -> None:
        """Start this pool's worker processes in the background, before the first render."""
        threading.Thread(target=WORKERS.ensure, args=(self.size,), daemon=True).start()

    async def render(
        self, tenant: str, requests: Sequence[RenderRequest], slow: bool = False
    ) -> list[Rendered]:
        """Render ``requests`` for ``tenant`` in a worker once it is this tenant's turn."""
        async with self._slots.slot(tenant, restricted=slow):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._threads, render_in_worker, list(requests), self.hard_seconds
            )

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
