"""The customer's page (SPEC §7): every page rendered for a customer with a year of hourly
readings, the trigger preview included, timed server-side on SQLite. Requests go through the
ASGI app in-process (no sockets), so the time is the server's: routing, session, queries,
the preview's back-test and the template."""

from __future__ import annotations

import argparse
import html
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from benchmarks.common import ADMIN_KEY, emit, fresh_sqlite
from engine.models import HistoryKind
from engine.platform.config import Settings
from engine.processes.demo.rules import BILL_MONTHLY, CHECKUP_REMINDER, DAILY_ENERGY
from engine.processes.runtime import Runtime
from engine.processes.tuning import tune_garbage_collector
from tests.fixtures.api import Api
from tests.fixtures.delivery import send
from tests.fixtures.rules import hourly, post_readings, publish

HOURS = 365 * 24
# A month-long window over the same hourly readings: the longest preview to replay.
MONTHLY_ENERGY = {
    **DAILY_ENERGY,
    "key": "energy.monthly_above",
    "title": {"en": "Monthly electricity use above your limit"},
    "window": "month",
    "parameters": [{**DAILY_ENERGY["parameters"][0], "default": 200, "max": 5000}],
}
MESSAGES = 300
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _setup(api: Api, runtime: Runtime) -> tuple[dict[str, Any], list[str]]:
    """A tenant with three rules; a customer with a year of hourly readings, three triggers
    and a few hundred messages in their history."""
    tenant = api.tenant()
    for rule in (DAILY_ENERGY, MONTHLY_ENERGY, BILL_MONTHLY, CHECKUP_REMINDER):
        publish(api, tenant, rule)
    customer = api.customer(
        tenant,
        name="Ada",
        locale="de-DE",
        timezone="Europe/Berlin",
        email="ada@example.com",
        phone="+4915112345678",
        consents=[{"channel": "email"}, {"channel": "sms"}],
    )
    token = api.token(tenant, customer["id"])
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(hours=HOURS)
    values = [0.2 + 0.6 * ((h % 24) in range(17, 22)) + 0.01 * (h % 7) for h in range(HOURS)]
    for start in range(0, HOURS, 5000):
        rows = hourly(
            customer["external_id"], first + timedelta(hours=start), values[start : start + 5000]
        )
        post_readings(api, tenant, rows)
    triggers = [
        api.ok("POST", "/v1/me/triggers", token, 201, json={"rule": key})["id"]
        for key in ("energy.daily_above", "bill.monthly_above", "checkup.reminder")
    ]
    sent = [send(runtime, triggers[0], channel="email").id for _ in range(3)]
    with runtime.services() as services:
        for i in range(MESSAGES):
            services.history.record(
                tenant.id,
                customer["id"],
                HistoryKind.message,
                f"email sent: message {i}",
                {"subject": f"Message {i}", "text": "Ihr Stromverbrauch …\n" * 5},
                channel="email",
                notification_id=sent[i % len(sent)],
            )
    link = api.ok("POST", f"/v1/customers/{customer['id']}/manage-link", tenant.feed, 201)
    return {"link": str(link["url"]), "triggers": triggers, "sent": sent}, triggers


def _sign_in(client: TestClient, link: str) -> str:
    """Sign in by the link; the CSRF token of the session that starts."""
    path = re.sub(r"^https?://[^/]+", "", link)
    page = client.get(path)
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    csrf = CSRF.search(page.text)
    assert token and csrf
    overview = client.post(
        "/me/link", data={"token": html.unescape(token.group(1)), "csrf_token": csrf.group(1)}
    )
    signed_in = CSRF.search(overview.text)
    assert overview.status_code == 200 and signed_in, overview.text[:300]
    return signed_in.group(1)


def _time(call: Callable[[], httpx.Response], rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per request. CPU time is what the request cost this
    process, whatever else the machine is running at the time."""
    wall, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = call()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (response.status_code, response.text[:300])
    return wall, cpu


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20)[-1], 1)


def run(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = fresh_sqlite(Path(directory))
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url,
            admin_key=SecretStr(ADMIN_KEY),
            secret_key=SecretStr("bench-secret"),
            outbox_dir=Path(directory) / "outbox",
            public_base_url="http://testserver",
        )
        runtime = Runtime.from_settings(settings)
        tune_garbage_collector(settings)  # as in every nudge process
        with TestClient(create_app(runtime)) as client:
            world, triggers = _setup(Api(client), runtime)
            csrf = _sign_in(client, world["link"])
            pages = {
                "overview": "/me",
                "alerts": "/me/alerts",
                "alert_new_preview": "/me/alerts/new?rule=energy.daily_above",
                "alert_edit_preview": f"/me/alerts/{triggers[0]}",
                "alert_monthly_preview": f"/me/alerts/{triggers[1]}",
                "alert_monthly_energy_preview": "/me/alerts/new?rule=energy.monthly_above",
                "channels": "/me/channels",
                "settings": "/me/settings",
                "history": "/me/history",
                "why": f"/me/history/{world['sent'][0]}",
                "data": "/me/data",
                "export": "/me/data/export",
            }
            timings = {
                name: _time(lambda p=path: client.get(p), rounds) for name, path in pages.items()
            }
            form = {
                "csrf_token": csrf,
                "rule": "energy.daily_above",
                "p_limit_kwh": "7.5",
                "action": "preview",
            }
            timings["preview_post"] = _time(
                lambda: client.post("/me/alerts/new", data=form), rounds
            )
        runtime.db.dispose()
    wall = {name: p95(w) for name, (w, _) in timings.items()}
    cpu = {name: p95(c) for name, (_, c) in timings.items()}
    previews = (
        "alert_new_preview",
        "alert_edit_preview",
        "alert_monthly_energy_preview",
        "preview_post",
    )
    emit(
        "customer_pages",
        readings=HOURS,
        rounds=rounds,
        page_p95_ms=max(wall.values()),
        preview_p95_ms=max(wall[name] for name in previews),
        page_cpu_p95_ms=max(cpu.values()),
        preview_cpu_p95_ms=max(cpu[name] for name in previews),
        target_ms=150,
        load_average_1m=round(os.getloadavg()[0], 2),
        cores=os.cpu_count(),
        pages_p95_ms=wall,
        pages_cpu_p95_ms=cpu,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=60, help="requests per page")
    args, _ = parser.parse_known_args()
    run(args.rounds)


if __name__ == "__main__":
    main()
