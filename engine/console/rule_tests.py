"""Rule tests: readings or events in, expected notifications out (in the spirit of
``promtool test rules``). The command line and the console's editor run the same code.

A test file (YAML or JSON)::

    rule: daily_above.json          # the definition, beside the test file (or inline)
    timezone: Europe/Berlin
    tests:
      - name: a day above the limit notifies once
        params: {limit_kwh: 10}
        readings:                   # threshold rules; event rules take ``events``
          - {start: "2026-03-02T00:00:00+01:00", duration: 3600, value: 12}
        expect:
          - {window_start: "2026-03-02", value: 12}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml  # type: ignore[import-untyped]
from pydantic import ValidationError

from engine.catalog.compiled import check_definition
from engine.errors import InvalidInput
from rules.aggregates import Reading
from rules.backtest import BacktestHit, backtest, backtest_events
from rules.context import Customer, Event
from rules.errors import RuleError
from rules.schema import RuleDefinition
from rules.trigger import compile_rule

MAX_CASES = 1_000
MAX_ROWS = 200_000


@dataclass
class CaseResult:
    name: str
    expected: list[str]
    got: list[str]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.expected == self.got

    def diff(self) -> list[str]:
        if self.error is not None:
            return [f"  error: {self.error}"]
        lines = [f"  - {line}" for line in self.expected if line not in self.got]
        return lines + [f"  + {line}" for line in self.got if line not in self.expected]


@dataclass
class Report:
    source: str
    cases: list[CaseResult] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.ok)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed + (1 if self.error else 0)

    def text(self) -> str:
        """What a person reads: each failure with expected (-) and got (+) lines."""
        if self.error:
            return f"{self.source}: {self.error}"
        lines = []
        for case in self.cases:
            lines.append(f"{'PASS' if case.ok else 'FAIL'} {self.source}: {case.name}")
            if not case.ok:
                lines += case.diff()
        return "\n".join(lines)


def run_file(path: Path) -> Report:
    """Run one test file; a rule named by a relative path is read beside it."""
    try:
        spec = _load(path.read_text(encoding="utf-8"))
        rule = spec.get("rule")
        if isinstance(rule, str):
            rule = _load((path.parent / rule).read_text(encoding="utf-8"))
        if not isinstance(rule, dict):
            raise ValueError("'rule' must be a definition or the path of a file holding one")
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return Report(str(path), error=str(exc))
    return run_spec(str(path), rule, spec)


def run_rule_tests(definition: dict[str, Any], source: str) -> Report:
    """The tests in ``source`` (YAML or JSON) against ``definition`` (the console's draft)."""
    try:
        spec = _load(source)
    except (ValueError, yaml.YAMLError) as exc:
        return Report("tests", error=str(exc))
    return run_spec("tests", definition, spec)


def run_spec(source: str, rule: dict[str, Any], spec: dict[str, Any]) -> Report:
    try:
        definition = check_definition(rule, ("rule",))
    except InvalidInput as exc:
        return Report(source, error=f"the rule does not compile: {exc.detail}")
    zone = str(spec.get("timezone") or "UTC")
    cases = spec.get("tests")
    if not isinstance(cases, list) or not cases:
        return Report(source, error="no tests: give a list under 'tests'")
    report = Report(source)
    for i, case in enumerate(cases[:MAX_CASES]):
        report.cases.append(_run_case(definition, zone, case, i))
    return report


def _load(text: str) -> dict[str, Any]:
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError("a test file is a mapping with 'rule' and 'tests'")
    return loaded


def _run_case(definition: RuleDefinition, zone: str, case: Any, index: int) -> CaseResult:
    name = str(case.get("name") or f"test {index + 1}") if isinstance(case, dict) else "?"
    if not isinstance(case, dict):
        return CaseResult(name, [], [], "a test is a mapping")
    try:
        timezone = str(case.get("timezone") or zone)
        ZoneInfo(timezone)
        expects = case.get("expect") or []
        expected = sorted(_expected(e, timezone) for e in expects)
        hits = _hits(definition, timezone, case)
    except (ValueError, TypeError, KeyError, RuleError, ValidationError, InvalidInput) as exc:
        return CaseResult(name, [], [], _reason(exc))
    values = all(isinstance(e, dict) and "value" in e for e in expects)
    return CaseResult(name, expected, sorted(_shown(h, timezone, values) for h in hits))


def _reason(exc: Exception) -> str:
    if isinstance(exc, InvalidInput):
        return exc.detail
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _hits(definition: RuleDefinition, zone: str, case: dict[str, Any]) -> list[BacktestHit]:
    compiled = compile_rule(definition, 0)
    params = case.get("params") or {}
    customer = Customer(str(case.get("locale") or "en"), zone, case.get("attributes") or {})
    if definition.kind == "threshold":
        rows = (case.get("readings") or [])[:MAX_ROWS]
        return backtest(compiled, params, customer, [_reading(r) for r in rows])
    events = [_event(e, definition.event_type or "") for e in (case.get("events") or [])]
    return backtest_events(compiled, params, customer, events[:MAX_ROWS])


def _reading(row: dict[str, Any]) -> Reading:
    start = _instant(row["start"])
    return Reading(start, timedelta(seconds=float(row.get("duration", 3600))), float(row["value"]))


def _event(row: dict[str, Any], default_type: str) -> Event:
    fields = {k: v for k, v in row.items() if k not in ("type", "occurred_at", "at")}
    amount = row.get("amount")
    due = row.get("due_date")
    return Event(
        str(row.get("type") or default_type),
        _instant(row.get("occurred_at") or row["at"]),
        float(amount) if amount is not None else None,
        date.fromisoformat(str(due)) if due else None,
        fields,
    )


def _instant(value: Any) -> datetime:
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if found.tzinfo is None:
        raise ValueError(f"{value}: give a time zone offset")
    return found.astimezone(UTC)


def _expected(row: Any, zone: str) -> str:
    """An expected notification as ``<window start, local> value=<v>`` (value optional)."""
    if not isinstance(row, dict):
        raise ValueError("an expected notification is a mapping with window_start")
    start = str(row.get("window_start") or row.get("at") or "")
    shown = _local_start(start, zone)
    return f"{shown} value={_num(row['value'])}" if "value" in row else shown


def _shown(hit: BacktestHit, zone: str, with_value: bool) -> str:
    local = hit.window_start.astimezone(ZoneInfo(zone))
    start = local.date().isoformat() if local.time() == datetime.min.time() else local.isoformat()
    return f"{start} value={_num(hit.value)}" if with_value and hit.value is not None else start


def _local_start(value: str, zone: str) -> str:
    if len(value) == 10:
        return date.fromisoformat(value).isoformat()
    local = _instant(value).astimezone(ZoneInfo(zone))
    return local.date().isoformat() if local.time() == datetime.min.time() else local.isoformat()


def _num(value: Any) -> str:
    number = round(float(value), 6)
    return str(int(number)) if number.is_integer() else str(number)


def as_json(report: Report) -> str:
    cases = [{"name": c.name, "ok": c.ok, "diff": c.diff()} for c in report.cases]
    return json.dumps({"source": report.source, "error": report.error, "cases": cases})
