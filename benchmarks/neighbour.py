"""Noisy neighbour (SPEC §7, issue 11): tenant B's reading-to-SMTP latency alone, then while
tenant A works at its worst allowed: a template as close to the render budget as saving
accepts, the costliest condition the cost check lets through, feeds of 5,000 readings back to
back and A's notifications dispatching. A's feed allowance is set the way a platform admin
sets it (``PATCH /v1/tenants/{id}``); B has none (the platform default, no limit unless
``--platform-default``). One ``nudge serve`` on SQLite; the SMTP server runs in its own
process and stamps each message as it accepts it."""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import queue
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import ADMIN_KEY, emit, fresh_sqlite, server
from benchmarks.delivery import percentile, smtp_env
from engine.processes.demo.rules import DAILY_ENERGY, ELECTRICITY
from engine.templating.errors import TemplateOverBudget
from engine.templating.render import RENDER_SECONDS, render
from rules.aggregates import Reading, aggregate
from rules.condition import compile_condition, evaluate
from rules.context import Context, Customer
from rules.cost import check_cost
from rules.errors import ConditionCompileError
from rules.params import ParameterSpec
from rules.schema import MAX_CONDITION_LENGTH
from rules.windows import window_for
from tests.fixtures.smtp_server import RecordingHandler, SmtpServer

FEED_SIZE = 5000
TEMPLATE_KEY = "noisy.alert"
B_TIMEOUT = 20.0
# Tenant A's own feed allowance, set by the admin: A sends far more.
ROWS_PER_S = 500
# The largest list of the longest strings that fits the 100,000 characters allowed in all.
A_ATTRIBUTES = {"xs": ["ab" * 500 for _ in range(99)] + ["ab" * 498]}


# --- SMTP in its own process: each accepted message is stamped with the time it arrived ---


class _StampingHandler(RecordingHandler):
    def __init__(self, stamps: Any) -> None:
        super().__init__()
        self.stamps = stamps

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.stamps.put((tuple(envelope.rcpt_tos), time.time()))
        return "250 Message accepted for delivery"


def _serve_smtp(stamps: Any, pipe: Connection) -> None:
    smtp = SmtpServer()
    smtp.handler = _StampingHandler(stamps)
    with smtp:
        pipe.send(smtp.url)
        pipe.recv()


class Arrivals:
    """When each recipient's first message reached the SMTP server (wall-clock seconds)."""

    def __init__(self, stamps: Any) -> None:
        self.stamps = stamps
        self.at: dict[str, float] = {}
        self.total = 0
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.running = True
        self.thread.start()

    def _drain(self) -> None:
        while self.running:
            try:
                rcpts, at = self.stamps.get(timeout=0.2)
            except queue.Empty:
                continue
            with self.changed:
                self.total += 1
                for rcpt in rcpts:
                    self.at.setdefault(rcpt, at)
                self.changed.notify_all()

    def wait(self, rcpt: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while rcpt not in self.at:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)
            return self.at[rcpt]


@contextmanager
def smtp_process() -> Iterator[tuple[str, Arrivals]]:
    stamps: Any = multiprocessing.Queue()
    mine, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_serve_smtp, args=(stamps, theirs), daemon=True)
    process.start()
    arrivals = Arrivals(stamps)
    try:
        yield mine.recv(), arrivals
    finally:
        mine.send("stop")
        arrivals.running = False
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


# --- tenant A's worst allowed work ---


def costly_condition(kind: str = "regex") -> str:
    """The costliest conditions found that the cost check accepts, over a 100-item attribute
    of 1,000-character strings (0.3-0.4 ms an evaluation here). ``regex`` (the costlier):
    as many matches of the slowest 100-character pattern found as the check accepts;
    ``search``: one ``all`` whose every step searches its item for a 500-character near
    miss."""
    tail = " && window.sum > params.limit_kwh"
    if kind == "regex":
        step = "customer.attributes.xs[{i}].matches('.*a" + "." * 97 + "')"
        return _fill([step.format(i=i) for i in range(100)], tail)
    needle = "ab" * 249 + "b"
    step = f"!x.contains('{needle}')"
    return _fill([f"customer.attributes.xs.all(x, {step})"], tail)


def _fill(clauses: list[str], tail: str) -> str:
    """The longest prefix of ``clauses`` (joined by &&) that the cost check accepts."""
    accepted = clauses[0] + tail
    for n in range(2, len(clauses) + 1):
        source = " && ".join(clauses[:n]) + tail
        try:
            check_cost(source)
        except ConditionCompileError:
            break
        if len(source) > MAX_CONDITION_LENGTH:
            break
        accepted = source
    check_cost(accepted)
    return accepted


def condition_ms(condition: str) -> float:
    """Milliseconds one evaluation of ``condition`` takes here, for one of A's customers."""
    compiled = compile_condition(
        condition, "threshold", (ParameterSpec(name="limit_kwh", type="double"),)
    )
    window = window_for("day", datetime.now(UTC), "UTC")
    stats = aggregate([Reading(window.start, timedelta(hours=1), 2.0)], window, datetime.now(UTC))
    ctx = Context({"limit_kwh": 1.0}, Customer(attributes=A_ATTRIBUTES), datetime.now(UTC), stats)
    started = time.perf_counter()
    evaluate(compiled, ctx)
    return (time.perf_counter() - started) * 1000


def loop_template(iterations: int) -> dict[str, str]:
    outer = max(1, iterations // 1000)  # the sandbox refuses ranges over 100,000
    loop = "{% for i in range(" + str(outer) + ") %}{% for j in range(1000) %}{% endfor %}"
    text = loop + "{% endfor %}Your use is above your limit."
    html = "<p>Your use is above your limit.</p>"
    return {"subject": "Use above your limit", "text": text, "html": html}


def render_seconds(iterations: int) -> float:
    started = time.perf_counter()
    with contextlib.suppress(TemplateOverBudget):  # a busy machine: the budget, at least
        render(loop_template(iterations), {}, "en", "UTC")
    return time.perf_counter() - started


def calibrated_iterations(share: float) -> int:
    """Loop steps that render in ``share`` of the budget here and now."""
    probe = 200_000
    per_step = min(render_seconds(probe) for _ in range(3)) / probe
    return int(RENDER_SECONDS * share / per_step)


def a_rule(condition: str) -> dict[str, Any]:
    return {
        "key": "noisy.use",
        "title": {"en": "Use above your limit"},
        "topic": "energy",
        "kind": "threshold",
        "metric": ELECTRICITY,
        "window": "day",
        "aggregate": "sum",
        "parameters": [{"name": "limit_kwh", "type": "double", "min": 0, "max": 1000}],
        "condition": condition,
        "template_key": TEMPLATE_KEY,
    }


# --- the API ---


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return response.json()


ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@dataclass
class Tenant:
    id: str
    ops: dict[str, str]
    feed: dict[str, str]


def tenant(client: httpx.Client, name: str) -> Tenant:
    admin = ADMIN
    body = {"name": name, "email_from": f"alerts@{name.lower()}.example"}
    tenant_id = _ok(client.post("/v1/tenants", headers=admin, json=body))["id"]
    keys = [
        _ok(client.post(f"/v1/tenants/{tenant_id}/keys", headers=admin, json={"role": role}))
        for role in ("ops", "feed")
    ]
    ops, feed = ({"Authorization": f"Bearer {key['key']}"} for key in keys)
    return Tenant(tenant_id, ops, feed)


def set_allowance(client: httpx.Client, tenant_id: str, rows_per_s: int | None) -> Any:
    """The platform admin gives the tenant its own feed allowance; what the tenant now shows."""
    body = {"feed_rows_per_second": rows_per_s}
    _ok(client.patch(f"/v1/tenants/{tenant_id}", headers=ADMIN, json=body))
    return _ok(client.get(f"/v1/tenants/{tenant_id}", headers=ADMIN))["feed_rows_per_second"]


def customer(
    client: httpx.Client,
    feed: dict[str, str],
    external_id: str,
    rule: str,
    limit: float,
    attributes: dict[str, Any] | None = None,
) -> None:
    body = {
        "external_id": external_id,
        "email": f"{external_id}@example.com",
        "timezone": "UTC",
        "consents": [{"channel": "email"}],
        "attributes": attributes or {},
    }
    created = _ok(client.post("/v1/customers", headers=feed, json=body))
    token = _ok(client.post(f"/v1/customers/{created['id']}/tokens", headers=feed))["token"]
    me = {"Authorization": f"Bearer {token}"}
    trigger = {"rule": rule, "params": {"limit_kwh": limit}}
    _ok(client.post("/v1/me/triggers", headers=me, json=trigger))


def save_template(client: httpx.Client, ops: dict[str, str], share: float) -> tuple[int, float]:
    """The longest loop saving accepts, starting from ``share`` of the budget and backing
    off by a tenth at each refusal; (iterations, milliseconds a render takes here)."""
    iterations = calibrated_iterations(share)
    refusal = ""
    for _ in range(12):
        body = {"key": TEMPLATE_KEY, "channel": "email", "locale": "en"}
        response = client.post(
            "/v1/templates", headers=ops, json={**body, "parts": loop_template(iterations)}
        )
        if response.status_code == 201:
            return iterations, render_seconds(iterations) * 1000
        if response.status_code != 422:
            _ok(response)
        iterations = int(iterations * 0.9)
        refusal = response.text[:300]
    raise RuntimeError(f"no loop template within the render budget was accepted: {refusal}")


def set_up_a(
    client: httpx.Client, customers: int, share: float, kind: str, rows_per_s: int | None
) -> tuple[Tenant, dict[str, Any]]:
    a = tenant(client, "Anoisy")
    allowance = set_allowance(client, a.id, rows_per_s)
    iterations, render_ms = save_template(client, a.ops, share)
    condition = costly_condition(kind)
    rule = a_rule(condition)
    _ok(client.post("/v1/rules", headers=a.ops, json=rule))
    _ok(client.post(f"/v1/rules/{rule['key']}/publish", headers=a.ops))
    for n in range(customers):
        customer(client, a.feed, f"a{n}", rule["key"], 1.0, A_ATTRIBUTES)
    facts = {
        "template_iterations": iterations,
        "template_render_ms": round(render_ms, 1),
        "condition_chars": len(condition),
        "condition_ms": round(condition_ms(condition), 1),
        "allowance": allowance,
    }
    return a, facts


def set_up_b(client: httpx.Client, customers: int) -> Tenant:
    b = tenant(client, "Bquiet")
    _ok(client.post("/v1/rules", headers=b.ops, json=DAILY_ENERGY))
    _ok(client.post(f"/v1/rules/{DAILY_ENERGY['key']}/publish", headers=b.ops))
    for n in range(customers):
        customer(client, b.feed, f"b{n}", DAILY_ENERGY["key"], 5.0)
    return b


# --- the load ---


def a_feeds(customers: int, count: int, now: datetime, seconds: int) -> list[bytes]:
    """``count`` bodies of FEED_SIZE readings of ``seconds`` each, spread over A's customers,
    each body further back in time than the one before, so each crosses new day windows."""
    per_customer = FEED_SIZE // customers
    step = timedelta(seconds=seconds)
    end = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    bodies = []
    for k in range(count):
        first = end - step * per_customer * (k + 1)
        rows = [
            {
                "customer": f"a{c}",
                "metric": ELECTRICITY,
                "start": (first + step * i).isoformat(),
                "duration": seconds,
                "value": 0.5,
                "unit": "kWh",
            }
            for c in range(customers)
            for i in range(per_customer)
        ]
        bodies.append(httpx.Request("POST", "/", json=rows[:FEED_SIZE]).read())
    return bodies


@dataclass
class ALoad:
    feeds: int = 0
    readings: int = 0
    errors: int = 0
    refused: int = 0  # 429: past the deployment's feed limits, sent again after Retry-After
    seconds: list[float] = field(default_factory=list)


def run_a(base: str, feed: dict[str, str], bodies: list[bytes], stop: threading.Event) -> ALoad:
    """A's feeds back to back, each sent again as soon as a 429's Retry-After allows."""
    load = ALoad()
    headers = {**feed, "content-type": "application/json"}
    with httpx.Client(base_url=base, timeout=90) as client:
        for body in bodies:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    response = client.post("/v1/feeds/readings", content=body, headers=headers)
                except httpx.HTTPError:
                    load.errors += 1
                    break
                if response.status_code == 429:
                    load.refused += 1
                    stop.wait(float(response.headers.get("retry-after", "1")))
                    continue
                load.errors += response.status_code >= 300
                load.readings += int(response.json().get("accepted", 0))
                load.feeds += 1
                load.seconds.append(time.perf_counter() - started)
                break
    return load


@dataclass
class BSamples:
    latencies: list[float] = field(default_factory=list)
    posts: list[float] = field(default_factory=list)  # the POST alone
    unsent: int = 0  # accepted, but no email within B_TIMEOUT (counted in errors too)
    errors: int = 0
    used: int = 0


def b_sample(
    client: httpx.Client, feed: dict[str, str], arrivals: Arrivals, n: int, out: BSamples
) -> None:
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    reading = {
        "customer": f"b{n}",
        "metric": ELECTRICITY,
        "start": hour.isoformat(),
        "duration": 3600,
        "value": 6.0,
        "unit": "kWh",
    }
    started = time.time()
    try:
        response = client.post("/v1/feeds/readings", headers=feed, json=[reading])
    except httpx.HTTPError:
        out.errors += 1
        return
    if response.status_code >= 300 or response.json().get("accepted") != 1:
        out.errors += 1
        return
    out.posts.append(time.time() - started)
    arrived = arrivals.wait(f"b{n}@example.com", B_TIMEOUT)
    if arrived is None:
        out.errors += 1
        out.unsent += 1
    else:
        out.latencies.append(arrived - started)


def run_b(
    base: str,
    feed: dict[str, str],
    arrivals: Arrivals,
    customers: range,
    until: float,
    pause: float,
) -> BSamples:
    out = BSamples()
    with httpx.Client(base_url=base, timeout=60) as client:
        for n in customers:
            if time.monotonic() > until:
                break
            b_sample(client, feed, arrivals, n, out)
            out.used += 1
            time.sleep(random.uniform(0, pause))
    return out


def summary(samples: BSamples) -> dict[str, float]:
    values = samples.latencies or [float("nan")]
    return {
        "p50_ms": round(percentile(values, 0.5) * 1000, 1),
        "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=60, help="B's readings in each phase")
    parser.add_argument("--a-customers", type=int, default=5)
    parser.add_argument("--a-reading-seconds", type=int, default=60)
    parser.add_argument("--a-seconds", type=float, default=40.0, help="how long A runs")
    parser.add_argument("--budget-share", type=float, default=0.8)
    parser.add_argument("--condition", choices=["regex", "search"], default="regex")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.3,
        help="least of the most seconds between B's readings (else spread over --a-seconds)",
    )
    parser.add_argument(
        "--rows-per-s",
        type=int,
        default=ROWS_PER_S,
        help="tenant A's own feed allowance, set through PATCH /v1/tenants/{id} (0: no limit; "
        "-1: none of its own, the platform default applies)",
    )
    parser.add_argument(
        "--platform-default",
        type=int,
        default=0,
        help="NUDGE_FEED_ROWS_PER_SECOND, for tenants without their own (B; 0: no limit)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp,
        smtp_process() as (smtp_url, arrivals),
    ):
        url = fresh_sqlite(Path(tmp), "neighbour.db")
        env = {**smtp_env(smtp_url), "NUDGE_FEED_ROWS_PER_SECOND": str(args.platform_default)}
        a_allowance = None if args.rows_per_s < 0 else args.rows_per_s
        with (
            server(url, command="serve", extra_env=env) as base,
            httpx.Client(base_url=base, timeout=60) as client,
        ):
            b = set_up_b(client, 2 * args.samples)
            a, facts = set_up_a(
                client, args.a_customers, args.budget_share, args.condition, a_allowance
            )
            # B's readings spread over as long as A runs (in both phases, alike): the noisy
            # phase sees A's steady pace, not only the first seconds of it.
            pause = max(args.pause, 1.8 * args.a_seconds / args.samples)
            alone = run_b(base, b.feed, arrivals, range(args.samples), float("inf"), pause)
            load_alone = loadavg()
            bodies = a_feeds(args.a_customers, 64, datetime.now(UTC), args.a_reading_seconds)
            stop = threading.Event()
            result: list[ALoad] = []
            a_thread = threading.Thread(
                target=lambda: result.append(run_a(base, a.feed, bodies, stop)), daemon=True
            )
            a_thread.start()
            time.sleep(2)  # A's first feed is under way
            until = time.monotonic() + args.a_seconds
            noisy = run_b(
                base,
                b.feed,
                arrivals,
                range(args.samples, 2 * args.samples),
                until,
                pause,
            )
            stop.set()
            a_thread.join(timeout=150)
            load_noisy = loadavg()
            a_emails = sum(1 for rcpt in list(arrivals.at) if rcpt.startswith("a"))
            smtp_messages = arrivals.total
    a_load = result[0] if result else ALoad()
    quiet, busy = summary(alone), summary(noisy)
    emit(
        "neighbour",
        neighbour_alone_samples=len(alone.latencies),
        neighbour_alone_p50_ms=quiet["p50_ms"],
        neighbour_alone_p99_ms=quiet["p99_ms"],
        neighbour_alone_errors=alone.errors,
        neighbour_samples=len(noisy.latencies),
        neighbour_p50_ms=busy["p50_ms"],
        neighbour_p99_ms=busy["p99_ms"],
        neighbour_max_ms=busy["max_ms"],
        neighbour_ratio=round(busy["p99_ms"] / quiet["p99_ms"], 2),
        target_neighbour_ratio=2.0,
        neighbour_b_errors=noisy.errors,
        neighbour_b_no_email_within_s=[noisy.unsent, B_TIMEOUT],
        neighbour_b_post_p99_ms=round(percentile(noisy.posts or [float("nan")], 0.99) * 1000, 1),
        neighbour_alone_post_p99_ms=round(
            percentile(alone.posts or [float("nan")], 0.99) * 1000, 1
        ),
        target_neighbour_b_errors=0,
        neighbour_a_feeds=a_load.feeds,
        neighbour_a_readings=a_load.readings,
        neighbour_a_errors=a_load.errors,
        neighbour_a_refused_429=a_load.refused,
        neighbour_a_feed_rows_per_s=facts["allowance"],
        neighbour_platform_feed_rows_per_s=args.platform_default,
        neighbour_a_feed_max_s=round(max(a_load.seconds or [0.0]), 2),
        neighbour_a_customers_emailed=a_emails,
        neighbour_smtp_messages=smtp_messages,
        neighbour_a_template_iterations=facts["template_iterations"],
        neighbour_a_template_render_ms=facts["template_render_ms"],
        neighbour_a_condition=args.condition,
        neighbour_a_condition_chars=facts["condition_chars"],
        neighbour_a_condition_ms=facts["condition_ms"],
        loadavg_alone=load_alone,
        loadavg_noisy=load_noisy,
        seconds=round(time.monotonic() - started, 1),
    )


if __name__ == "__main__":
    main()
