"""Run dispatch in this process: channels, the dispatcher and its clock, with a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from engine.channels.registry import ChannelRegistry
from engine.delivery.dispatcher import Dispatcher
from engine.delivery.wakeups import announces, listen_for_due
from engine.processes.runtime import Runtime
from engine.processes.scheduler import build_scheduler, wake_at_next_due

log = logging.getLogger("nudge.worker")


@asynccontextmanager
async def dispatching(runtime: Runtime) -> AsyncIterator[Dispatcher]:
    """Dispatch in the background while the block runs; on exit finish in-flight sends and
    give back every claimed notification that was not started."""
    channels = ChannelRegistry.from_settings(runtime.settings)
    dispatcher = Dispatcher(runtime, channels)
    scheduler = build_scheduler(dispatcher)

    async def on_idle() -> None:
        await wake_at_next_due(scheduler, dispatcher)

    runtime.listeners.append(dispatcher.wake)
    scheduler.start()
    task = asyncio.create_task(
        dispatcher.run(runtime.settings.sweep_interval_seconds, on_idle=on_idle)
    )
    url = runtime.settings.database_url
    listener = asyncio.create_task(listen_for_due(url, dispatcher.wake)) if announces(url) else None
    log.info("dispatching", extra={"owner": dispatcher.owner, "channels": channels.describe()})
    try:
        yield dispatcher
    finally:
        runtime.listeners.remove(dispatcher.wake)
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await dispatcher.stop()
        await task
        scheduler.shutdown(wait=False)
        await channels.aclose()
        log.info("dispatcher stopped", extra={"owner": dispatcher.owner})


async def run_worker(runtime: Runtime) -> None:
    """``nudge worker``: dispatch until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with dispatching(runtime):
        await stop.wait()
