"""Rule tests from the command line (``nudge rules test FILE…``): passing files exit 0,
a failing expectation prints a readable diff and exits 1, broken files say why."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from engine.console.rule_tests import run_rule_tests
from engine.processes.cli import app
from tests.fixtures.rules import BILL_EVENT, DAILY_ENERGY

HERE = Path(__file__).resolve().parent / "rule_tests"
runner = CliRunner()


def test_the_tests_kept_beside_a_rule_pass() -> None:
    result = runner.invoke(app, ["rules", "test", str(HERE / "daily_above.test.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.count("PASS ") == 3 and "all passed" in result.output


def test_a_wrong_expectation_prints_a_diff_and_exits_non_zero(tmp_path: Path) -> None:
    spec = {
        "rule": DAILY_ENERGY,
        "timezone": "Europe/Berlin",
        "tests": [
            {
                "name": "expects the wrong day and value",
                "params": {"limit_kwh": 10},
                "readings": [{"start": "2026-03-02T08:00:00+01:00", "value": 16}],
                "expect": [{"window_start": "2026-03-03", "value": 15}],
            }
        ],
    }
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(spec))
    good = HERE / "daily_above.test.yaml"
    result = runner.invoke(app, ["rules", "test", str(good), str(path)])
    assert result.exit_code == 1
    assert f"FAIL {path}: expects the wrong day and value" in result.output
    assert "  - 2026-03-03 value=15\n  + 2026-03-02 value=16" in result.output
    assert "1 failed" in result.output


def test_event_rules_take_events() -> None:
    spec = {
        "tests": [
            {
                "name": "a bill above the limit",
                "params": {"limit": 100},
                "events": [
                    {"type": "bill.issued", "at": "2026-03-02T10:00:00+01:00", "amount": 120},
                    {"type": "bill.issued", "at": "2026-04-02T10:00:00+02:00", "amount": 80},
                ],
                "expect": [{"window_start": "2026-03-02T10:00:00+01:00"}],
            }
        ],
        "timezone": "Europe/Berlin",
    }
    report = run_rule_tests(BILL_EVENT, json.dumps(spec))
    assert (report.passed, report.failed) == (1, 0), report.text()


def test_broken_files_say_why(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    missing.write_text("rule: nowhere.json\ntests: []\n")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("tests: [\n")
    bad_rule = tmp_path / "bad_rule.yaml"
    bad_rule.write_text(
        json.dumps({"rule": {**DAILY_ENERGY, "condition": "window.sum >"}, "tests": [{}]})
    )
    result = runner.invoke(app, ["rules", "test", str(missing), str(bad_yaml), str(bad_rule)])
    assert result.exit_code == 1
    assert "nowhere.json" in result.output
    assert "the rule does not compile: condition does not compile at 1:13" in result.output
    assert "3 failed" in result.output
