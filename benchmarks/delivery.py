"""Delivery benchmarks (SPEC §7): email dispatch to a local aiosmtpd, SMS dispatch to the local
Twilio stub, reading-to-SMTP latency through ``nudge serve``, and, for comparison, Apprise
sending the same emails to the same server. Servers run in their own processes."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from benchmarks.common import ADMIN_KEY, emit, fresh_sqlite, server
from engine.channels.registry import ChannelRegistry
from engine.delivery.dispatcher import Dispatcher
from engine.models import Notification, NotificationStatus
from engine.platform.config import Settings
from engine.processes.runtime import Runtime
from engine.processes.tuning import tune_garbage_collector
from tests.fixtures.rules import DAILY_ENERGY
from tests.fixtures.smtp_server import SmtpServer
from tests.fixtures.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub
from tests.fixtures.workload import load_notifications

FROM = "alerts@stadtwerke.example"


def _serve_smtp(pipe: Connection) -> None:
    with SmtpServer() as smtp:
        pipe.send(smtp.url)
        pipe.recv()
        pipe.send(len(smtp.handler.received))


STARTUP_SECONDS = 60.0


def _serve_twilio(pipe: Connection) -> None:
    with TwilioStub() as stub:
        pipe.send(stub.base_url)
        pipe.recv()
        pipe.send((len(stub.requests), len(stub.violations)))


@contextmanager
def child(target: Callable[[Connection], None]) -> Iterator[tuple[str, Connection]]:
    """A server in its own process; yields its address and the pipe for its final count."""
    # Spawned, not forked: this process may already run threads (render lanes, the loop).
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    process = context.Process(target=target, args=(theirs,), daemon=True)
    process.start()
    theirs.close()  # a child that dies then ends our reads instead of leaving them waiting
    try:
        if not mine.poll(STARTUP_SECONDS):
            raise RuntimeError(f"{target.__name__} did not start in {STARTUP_SECONDS:.0f} s")
        yield mine.recv(), mine
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def unsent(runtime: Runtime) -> int:
    with runtime.services() as services:
        query = (
            select(func.count())
            .select_from(Notification)
            .where(Notification.status != NotificationStatus.sent)
        )
        return int(services.session.execute(query).scalar() or 0)


def dispatch_rate(settings: Settings, count: int, channel: str) -> float:
    """Notifications per second from due to recorded as sent, one dispatcher process."""
    load_notifications(settings, count, channel)
    runtime = Runtime.from_settings(settings)
    tune_garbage_collector(settings)  # as `nudge worker` does
    dispatcher = Dispatcher(runtime, ChannelRegistry.from_settings(settings))

    async def run() -> float:
        started = time.perf_counter()
        task = asyncio.create_task(dispatcher.run(0.2))
        for _ in range(2400):  # at most ten minutes
            if not await dispatcher.in_db(unsent, runtime):
                break
            await asyncio.sleep(0.25)
        elapsed = time.perf_counter() - started
        await dispatcher.stop()
        await task
        await dispatcher.channels.aclose()
        return elapsed

    elapsed = asyncio.run(run())
    left = unsent(runtime)
    runtime.db.dispose()
    if left:
        raise RuntimeError(f"{left} notifications were not sent")
    return count / elapsed


def email_rate(directory: Path, count: int) -> tuple[float, int]:
    with child(_serve_smtp) as (url, pipe):
        settings = Settings(
            _env_file=None,
            database_url=fresh_sqlite(directory, "email.db"),
            smtp_url=SecretStr(url),
            admin_key=SecretStr(ADMIN_KEY),
            public_base_url="https://nudge.example",
            smtp_from=FROM,
        )
        rate = dispatch_rate(settings, count, "email")
        pipe.send("stop")
        return rate, int(pipe.recv())


def sms_rate(directory: Path, count: int) -> tuple[float, int, int]:
    with child(_serve_twilio) as (base_url, pipe):
        settings = Settings(
            _env_file=None,
            database_url=fresh_sqlite(directory, "sms.db"),
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=SecretStr(AUTH_TOKEN),
            twilio_from_number="+43720123456",
            twilio_api_base_url=base_url,
            admin_key=SecretStr(ADMIN_KEY),
            public_base_url="https://nudge.example",
        )
        rate = dispatch_rate(settings, count, "sms")
        pipe.send("stop")
        requests, violations = pipe.recv()
        return rate, requests, violations


def smtp_env(smtp_url: str) -> dict[str, str]:
    """What a ``nudge`` process needs in its environment to send email to ``smtp_url``."""
    return {
        "NUDGE_SMTP_URL": smtp_url,
        "NUDGE_SMTP_FROM": FROM,
        "NUDGE_PUBLIC_BASE_URL": "https://nudge.example",
    }


def latencies(directory: Path, samples: int) -> list[float]:
    """Seconds from POSTing a reading that crosses a threshold to the SMTP server accepting
    the email, through ``nudge serve`` (API, evaluator and dispatcher in one process)."""
    with SmtpServer() as smtp:
        url = fresh_sqlite(directory, "latency.db")
        env = smtp_env(smtp.url)
        with (
            server(url, command="serve", extra_env=env) as base,
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            feed = latency_customers(client, samples)
            return [one_latency(client, smtp, feed, n) for n in range(samples)]


def latency_customers(client: httpx.Client, customers: int) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    tenant = _ok(
        client.post("/v1/tenants", headers=admin, json={"name": "Latency", "email_from": FROM})
    )["id"]
    ops, feed = (
        {
            "Authorization": "Bearer "
            + _ok(client.post(f"/v1/tenants/{tenant}/keys", headers=admin, json={"role": role}))[
                "key"
            ]
        }
        for role in ("ops", "feed")
    )
    _ok(client.post("/v1/rules", headers=ops, json=DAILY_ENERGY))
    _ok(client.post(f"/v1/rules/{DAILY_ENERGY['key']}/publish", headers=ops))
    for n in range(customers):
        customer = _ok(
            client.post(
                "/v1/customers",
                headers=feed,
                json={
                    "external_id": f"l{n}",
                    "email": f"l{n}@example.com",
                    "timezone": "UTC",
                    "consents": [{"channel": "email"}],
                },
            )
        )
        token = _ok(client.post(f"/v1/customers/{customer['id']}/tokens", headers=feed))
        me = {"Authorization": f"Bearer {token['token']}"}
        _ok(
            client.post(
                "/v1/me/triggers",
                headers=me,
                json={"rule": DAILY_ENERGY["key"], "params": {"limit_kwh": 5}},
            )
        )
    return feed


def one_latency(client: httpx.Client, smtp: SmtpServer, feed: dict[str, str], n: int) -> float:
    before = len(smtp.handler.received)
    hour = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(time.time() - 3600))
    reading = [
        {
            "customer": f"l{n}",
            "metric": "electricity.consumption",
            "start": hour,
            "duration": 3600,
            "value": 6.0,
            "unit": "kWh",
        }
    ]
    started = time.perf_counter()
    _ok(client.post("/v1/feeds/readings", headers=feed, json=reading))
    deadline = started + 10
    while len(smtp.handler.received) == before:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no email for l{n} within 10 s")
        time.sleep(0.0005)
    return time.perf_counter() - started


def apprise_rate(count: int) -> float:
    """The same kind of email sent by Apprise (smtplib, one connection per message, its
    per-plugin throttle turned off so that only sending is measured)."""
    import apprise

    with child(_serve_smtp) as (url, pipe):
        host_port = url.split("://", 1)[1].split("?", 1)[0]
        notifier = apprise.Apprise()
        notifier.add(f"mailto://{host_port}/c1@example.com?from={FROM}&mode=insecure")
        for plugin in notifier:
            plugin.request_rate_per_sec = 0  # Apprise spaces emails ~5 s apart by default
        body = "Ihr Stromverbrauch heute: 6,5 kWh, über Ihrem Limit von 5 kWh.\n" * 8
        started = time.perf_counter()
        for _ in range(count):
            notifier.notify(title="Stromverbrauch über Ihrem Limit", body=body)
        elapsed = time.perf_counter() - started
        pipe.send("stop")
        received = int(pipe.recv())
    if received != count:
        raise RuntimeError(f"Apprise delivered {received} of {count}")
    return count / elapsed


def _ok(response: httpx.Response) -> Any:
    response.raise_for_status()
    return response.json()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=3000)
    parser.add_argument("--sms", type=int, default=2000)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--apprise", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nudge-bench-") as tmp:
        directory = Path(tmp)
        emails, received = email_rate(directory, args.emails)
        emit(
            "email_dispatch",
            messages=args.emails,
            received=received,
            emails_per_s=round(emails),
            target_emails_per_s=500,
        )
        sms, requests, violations = sms_rate(directory, args.sms)
        emit(
            "sms_dispatch",
            messages=args.sms,
            requests=requests,
            violations=violations,
            sms_per_s=round(sms),
            target_sms_per_s=300,
        )
        samples = latencies(directory, args.latency_samples)
        emit(
            "reading_to_smtp_latency",
            samples=len(samples),
            latency_p50_ms=round(percentile(samples, 0.5) * 1000, 1),
            latency_p99_ms=round(percentile(samples, 0.99) * 1000, 1),
            mean_ms=round(statistics.fmean(samples) * 1000, 1),
            target_p50_ms=100,
            target_p99_ms=500,
        )
        emit(
            "apprise_email_comparison",
            messages=args.apprise,
            apprise_emails_per_s=round(apprise_rate(args.apprise), 1),
            emails_per_s=round(emails),
        )


if __name__ == "__main__":
    main()
