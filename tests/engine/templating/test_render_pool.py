"""Templates render in worker processes: the same message as in the serving process, the same
budget, and a render that does not stop is killed at the hard timeout without taking the
other messages of its batch with it."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from engine.templating import render
from engine.templating.errors import TemplateOverBudget, TemplateRenderFailed
from engine.templating.pool import WORKERS, RenderPool, RenderRequest, _Worker, render_in_worker

CONTEXT = {"customer": {"name": "Ada", "attributes": {}}, "window": {"sum": 12.5}}
PARTS = {"subject": "Hallo {{ customer.name }}", "text": "{{ window.sum | number }} kWh"}
NESTED = "{% for i in range(42000) %}{% for j in range(42000) %}{% endfor %}{% endfor %}x"
# About a second of looping in steps the budget never sees (one loop, one huge step each).
UNCHECKED = "{% for i in range(3) %}{{ range(99999) | list | sort | join }}{% endfor %}"


def request(parts: dict[str, str]) -> RenderRequest:
    return RenderRequest(parts, CONTEXT, "de-DE", "Europe/Berlin")


def test_a_worker_renders_what_the_serving_process_renders() -> None:
    [outcome] = render_in_worker([request(PARTS)])
    assert outcome.error is None
    assert outcome.message == render(PARTS, CONTEXT, "de-DE", "Europe/Berlin")
    assert outcome.message is not None and outcome.message.text == "12,5 kWh"


def test_the_budget_holds_in_a_worker_and_errors_come_back_as_domain_errors() -> None:
    slow, broken = request({"text": NESTED}), request({"text": "{{ 1 / 0 }}"})
    over, failed, fine = render_in_worker([slow, broken, request(PARTS)])
    assert isinstance(over.error, TemplateOverBudget)
    assert "longer than 200 ms" in over.error.detail
    assert isinstance(failed.error, TemplateRenderFailed) and "division" in failed.error.detail
    assert fine.message is not None and fine.message.subject == "Hallo Ada"


def test_a_render_past_the_hard_timeout_is_killed_and_the_rest_still_render() -> None:
    started = time.perf_counter()
    stuck = request({"text": UNCHECKED})
    killed, after = render_in_worker([stuck, request(PARTS)], hard_seconds=0.05)
    assert isinstance(killed.error, TemplateOverBudget)
    assert "was stopped" in killed.error.detail
    assert after.message is not None and after.message.text == "12,5 kWh"
    assert time.perf_counter() - started < 30  # a new worker started, nothing waited forever


@pytest.mark.anyio
async def test_a_quick_tenant_renders_beside_a_slow_one() -> None:
    pool = RenderPool(2)
    loops = "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}"
    slow = request({"text": loops + "done"})  # 0.1-0.2 s
    try:
        await asyncio.to_thread(WORKERS.ensure, 2)  # both workers up
        order: list[str] = []

        async def run(tenant: str, req: RenderRequest, is_slow: bool) -> None:
            await pool.render(tenant, [req], slow=is_slow)
            order.append(tenant)

        hogs = [asyncio.create_task(run("a", slow, True)) for _ in range(3)]
        await asyncio.sleep(0.01)
        await run("b", request(PARTS), False)  # the last free worker stays free for b
        assert order[0] == "b"
        await asyncio.gather(*hogs)
        assert order == ["b", "a", "a", "a"]
    finally:
        pool.close()


def test_a_worker_outlives_an_interrupt_meant_for_its_terminal() -> None:
    """Ctrl+C reaches the whole process group: the worker keeps rendering until the process
    that owns it stops it."""
    worker = _Worker()
    try:
        os.kill(worker.process.pid, signal.SIGINT)
        time.sleep(0.3)
        assert worker.alive()
        [outcome] = worker.render([request(PARTS)], hard_seconds=10)
        assert outcome.message is not None and outcome.message.text == "12,5 kWh"
    finally:
        worker.stop()
