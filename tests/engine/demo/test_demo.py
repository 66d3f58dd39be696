"""``nudge demo`` end to end: a tenant, rules and customers through the services, a replayed
year of Green Button (or generated) data, dispatch to the outbox, and the summary."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from engine.platform.clock import FrozenClock
from engine.platform.config import get_settings
from engine.processes.cli import app
from engine.processes.demo.cast import ANNA, BEN, CHLOE, DARA
from engine.processes.demo.data import find_greenbutton
from engine.processes.demo.outcome import CustomerOutcome
from engine.processes.demo.report import outbox_line, print_report
from engine.processes.demo.run import DemoReport, run_demo
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures import database

MIDDAY = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # 12:00 in Berlin and Vienna, 11:00 in London
NIGHT = datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 23:30 in Berlin and Vienna


MakeRuntime = Callable[[datetime], Runtime]


@pytest.fixture
def make_runtime(tmp_path: Path, sqlite_template: Path) -> Iterator[MakeRuntime]:
    """A runtime over a fresh SQLite copy whose clock stands still at the given instant."""
    runtimes: list[Runtime] = []

    def make(at: datetime) -> Runtime:
        url = database.sqlite_copy(sqlite_template, tmp_path)
        runtime = Runtime.from_settings(make_settings(url, tmp_path), FrozenClock(at))
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.db.dispose()


def by_name(report: DemoReport) -> dict[str, CustomerOutcome]:
    return {o.customer.name: o for o in report.outcomes}


def outbox(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The outbox's messages by recipient address: channel, subject, body or TwiML."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        found[record["to"]].append(record)
    for path in sorted(folder.glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(mail, EmailMessage)
        plain = mail.get_body(preferencelist=("plain",))
        assert plain is not None
        body = plain.get_content()
        found[str(mail["To"])].append(
            {"channel": "email", "subject": str(mail["Subject"]), "body": body}
        )
    return found


def check_midday(report: DemoReport) -> None:
    """What each customer's preferences imply when the demo runs at midday in Europe."""
    outcomes, messages = by_name(report), outbox(report.outbox)
    assert sum(len(m) for m in messages.values()) == sum(
        sum(o.sent_by_channel.values()) for o in report.outcomes
    )
    for o in report.outcomes:
        assert all((report.outbox / e.file).is_file() for e in o.examples)

    anna = outcomes[ANNA.name]
    assert anna.sent_by_channel["sms"] >= 2 and anna.sent_by_channel["email"] >= 1
    assert {m["channel"] for m in messages[ANNA.phone or ""]} == {"sms"}
    assert all(m["locale"] == "de-DE" for m in messages[ANNA.phone or ""])
    assert any("Ihr Stromverbrauch am" in m["body"] for m in messages[ANNA.phone or ""])
    assert any("Erinnerung: Ihr Check-up" in m["body"] for m in messages[ANNA.phone or ""])
    assert any("Ihre Rechnung für" in m["subject"] for m in messages[ANNA.email or ""])

    ben = outcomes[BEN.name]
    assert set(ben.sent_by_channel) == {"email"} and ben.statuses["sent"] >= 2
    assert all("above your limit" in m["subject"] for m in messages[BEN.email or ""])
    assert ben.statuses["cancelled"] == 1 and ben.statuses["scheduled"] == 1
    assert ("cancelled", "checkup.reminder: the due date moved") in ben.reasons

    chloe = outcomes[CHLOE.name]
    assert chloe.sent_by_channel == {"sms": 1}, "one SMS a day, and this run is one day"
    assert chloe.statuses["deferred"] >= 2
    assert [m["channel"] for m in messages[CHLOE.phone or ""]] == ["sms"]
    assert all(
        "frequency cap reached: at most 1 sms per day" in reason
        for status, reason in chloe.reasons
        if status == "deferred"
    )

    dara = outcomes[DARA.name]
    calls = [m for m in messages[DARA.phone or ""] if m["channel"] == "voice"]
    assert len(calls) == 1
    assert '<Say language="de-DE">Grüß Gott, Dara Novak.' in calls[0]["twiml"]
    assert dara.sent_by_channel["email"] >= 1
    assert all("Stromverbrauch am" in m["subject"] for m in messages[DARA.email or ""])
    assert dara.statuses["suppressed"] >= 1
    assert any("no channel left with a contact point and consent" in r for _, r in dara.reasons)


def test_demo_replays_the_green_button_year(shared_data: Path, make_runtime: MakeRuntime) -> None:
    report = run_demo(make_runtime(MIDDAY), shared_data / "greenbutton")

    assert report.data_folder == shared_data / "greenbutton"
    assert all(s.startswith("Green Button") for s in report.sources.values())
    assert report.channels == {"email": "outbox", "sms": "outbox", "voice": "outbox"}
    check_midday(report)


def test_demo_generates_its_data_without_the_shared_folder(
    tmp_path: Path, make_runtime: MakeRuntime
) -> None:
    assert find_greenbutton(tmp_path / "missing") is None
    report = run_demo(make_runtime(MIDDAY), tmp_path / "missing")

    assert report.data_folder is None
    assert all(s.startswith("generated") for s in report.sources.values())
    check_midday(report)


def test_at_night_quiet_hours_defer_sms_and_calls_and_the_summary_says_so(
    tmp_path: Path, make_runtime: MakeRuntime
) -> None:
    report = run_demo(make_runtime(NIGHT), tmp_path / "missing")
    anna, dara = by_name(report)[ANNA.name], by_name(report)[DARA.name]

    assert "sms" not in anna.sent_by_channel and anna.statuses["deferred"] >= 2
    assert ("deferred", "energy.daily_above: quiet hours for sms until 08:00") in anna.reasons
    assert "voice" not in dara.sent_by_channel
    assert ("deferred", "checkup.reminder: quiet hours for voice until 08:00") in dara.reasons
    console = Console(record=True, width=200)
    print_report(report, console)
    text = console.export_text()
    assert "quiet hours for sms until 08:00" in text
    assert "frequency cap reached" in text
    assert str(report.outbox) in text
    assert "readings were generated" in text
    # Quiet hours held every call: the summary must not say that voice messages went out.
    sent = sum(sum(o.sent_by_channel.values()) for o in report.outcomes)
    emails = sum(o.sent_by_channel["email"] for o in report.outcomes)
    assert all(o.sent_by_channel["voice"] == 0 for o in report.outcomes)
    line = outbox_line(report)
    assert "call" not in line and "voice" not in line
    assert f"{emails} email" in line
    assert sum(int(n) for n in re.findall(r"(\d+) (?:emails?|SMS)\b", line)) == sent


def test_a_second_run_sets_up_a_new_tenant(tmp_path: Path, make_runtime: MakeRuntime) -> None:
    runtime = make_runtime(MIDDAY)
    first = run_demo(runtime, tmp_path / "missing")
    second = run_demo(runtime, tmp_path / "missing")

    assert second.setup.tenant_id != first.setup.tenant_id
    assert by_name(second)[BEN.name].statuses == by_name(first)[BEN.name].statuses
    assert by_name(second)[CHLOE.name].sent_by_channel == {"sms": 1}


def test_cli_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("NUDGE_OUTBOX_DIR", str(tmp_path / "outbox"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        missing = runner.invoke(app, ["demo"])
        assert missing.exit_code == 1 and "nudge db upgrade" in missing.output
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        result = runner.invoke(app, ["demo", "--data", str(tmp_path / "missing")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "Notifications" in result.stdout and "ops key" in result.stdout
    assert any((tmp_path / "outbox").iterdir())
