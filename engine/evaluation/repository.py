"""SQL evaluation reads and writes: the triggers a batch can wake (plain rows, not ORM
objects: this runs on every batch) and each trigger's per-window state."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import insert, tuple_
from sqlmodel import Session, col, select

from engine.evaluation.active import ActiveTrigger
from engine.models import Rule, RuleStatus, RuleVersion, TriggerState
from engine.models.types import decoded
from engine.platform.driver_sql import (
    DriverStatements,
    encoded_json,
    in_lists,
    sqlite_time,
)

_CHUNK = 400  # state keys in one IN list
_STATE_COLUMNS = "trigger_id, window_start, window_end, state, last_value, updated_at"


_ACTIVE_COLUMNS = "t.id, t.tenant_id, t.customer_id, t.rule_version_id"
# PostgreSQL: all the customers in one array parameter, one statement, instead of lists of 900
# parameters, each of which the planner answered with a scan of the whole table.
_ACTIVE_ARRAY = (
    f"SELECT {_ACTIVE_COLUMNS}, t.params::text, t.channels FROM unnest(%s::text[]) AS "
    "wanted(customer_id) JOIN triggers t ON t.customer_id = wanted.customer_id"
)


class _TriggerRows(DriverStatements):
    def active(
        self,
        customer_ids: Sequence[str],
        kind: str,
        metrics: Sequence[str],
        event_types: Sequence[str],
    ) -> list[tuple[Any, ...]]:
        """(id, tenant, customer, rule version, params, channels) of enabled triggers: the
        parameters as JSON text on both databases (decoded once per distinct text, see
        `_Decoded`), the channels as the driver gives them (see `decoded`)."""
        m = self.mark
        filters: list[str] = []
        extra: list[str] = []
        for column, values in (("metric", metrics), ("event_type", event_types)):
            if values:
                filters.append(f"AND t.{column} IN ({', '.join([m] * len(values))})")
                extra.extend(values)
        condition = f"t.kind = {m} AND t.enabled = {m} {' '.join(filters)}"
        if not self.sqlite:
            sql = f"{_ACTIVE_ARRAY} WHERE {condition}"
            return self._query(sql, [list(set(customer_ids)), kind, True, *extra])
        rows: list[tuple[Any, ...]] = []
        for chunk in in_lists(customer_ids):
            sql = (
                f"SELECT {_ACTIVE_COLUMNS}, t.params, t.channels FROM triggers t "
                f"WHERE t.customer_id IN ({', '.join([m] * len(chunk))}) AND {condition}"
            )
            rows.extend(self._query(sql, [*chunk, kind, True, *extra]))
        return rows

    def insert_states(self, rows: Sequence[dict[str, Any]]) -> None:
        """SQLite: state rows (`_STATE_COLUMNS`), the state as JSON text as the engine's JSON
        columns store it (`encoded_json`) and the time as SQLAlchemy stores it; in key order,
        so that each index page is changed once (see `ReadingRepository._in_key_order`)."""
        values = [
            (
                r["trigger_id"],
                r["window_start"],
                r["window_end"],
                encoded_json(r["state"]),
                r["last_value"],
                sqlite_time(r["updated_at"]),
            )
            for r in rows
        ]
        self._insert_rows(f"INSERT INTO trigger_states ({_STATE_COLUMNS})", sorted(values))

    def state_values(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Any]:
        """The stored state (as the driver gives the JSON column) of each (trigger, window
        start) among ``keys`` that has one, asked for by window start with the triggers in one
        list each (a batch's windows mostly share their start)."""
        by_start: dict[int, list[str]] = {}
        for trigger_id, start in dict.fromkeys(keys):
            by_start.setdefault(start, []).append(trigger_id)
        m = self.mark
        found: dict[tuple[str, int], Any] = {}
        for start, ids in by_start.items():
            for chunk in in_lists(ids):
                sql = (
                    "SELECT trigger_id, window_start, state FROM trigger_states WHERE "
                    f"window_start = {m} AND trigger_id IN ({', '.join([m] * len(chunk))})"
                )
                for trigger_id, window_start, state in self._query(sql, [start, *chunk]):
                    found[(trigger_id, int(window_start))] = state
        return found


class _Decoded:
    """`decoded` of JSON objects of plain values, each text decoded once: triggers of a
    batch mostly share their parameters' text (a rule's defaults, a few common limits).
    Each caller gets its own copy of the value, and the text it was decoded from (one string
    for equal texts)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, dict[str, Any]]] = {}

    def __call__(self, raw: str) -> tuple[Any, str]:
        found = self._seen.get(raw)
        if found is None:
            value = decoded(raw)
            if not isinstance(value, dict) or not all(map(_plain, value.values())):
                return value, raw
            found = self._seen[raw] = (raw, value)
        return dict(found[1]), found[0]


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


class EvaluationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._rows = _TriggerRows(session)

    def active(
        self,
        customer_ids: Sequence[str],
        kind: str,
        *,
        metrics: Sequence[str] = (),
        event_types: Sequence[str] = (),
    ) -> list[ActiveTrigger]:
        """Enabled triggers of ``kind`` for these customers whose rule is not retired.

        Through the driver, not ORM objects or Core results: this runs on every ingested
        batch, and the first batch of a tenant loads one trigger per reading."""
        unique = list(dict.fromkeys(customer_ids))
        rows = self._rows.active(unique, kind, metrics, event_types)
        versions = self._live_versions({row[3] for row in rows})
        params_of = _Decoded()
        found: list[ActiveTrigger] = []
        for id_, tenant, customer, version_id, raw, channels in rows:
            live = versions.get(version_id)
            if live is not None:
                params, text = params_of(raw)
                version, definition = live
                if channels is not None:
                    channels = decoded(channels)
                found.append(
                    ActiveTrigger(
                        id_,
                        tenant,
                        customer,
                        version_id,
                        version,
                        definition,
                        params,
                        channels,
                        text,
                    )
                )
        return found

    def _live_versions(self, ids: set[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        """Version number and definition of these rule versions, unless their rule retired."""
        if not ids:
            return {}
        query = (
            select(col(RuleVersion.id), col(RuleVersion.version), col(RuleVersion.definition))
            .join(Rule, col(Rule.id) == col(RuleVersion.rule_id))
            .where(col(RuleVersion.id).in_(ids), col(Rule.status) != RuleStatus.retired)
        )
        return {
            vid: (version, dict(definition))
            for vid, version, definition in self.session.execute(query)
        }

    def states(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], TriggerState]:
        found: dict[tuple[str, int], TriggerState] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), _CHUNK):
            pair = tuple_(col(TriggerState.trigger_id), col(TriggerState.window_start))
            query = select(TriggerState).where(pair.in_(unique[i : i + _CHUNK]))
            for row in self.session.exec(query):
                found[(row.trigger_id, row.window_start)] = row
        return found

    def state_values(
        self, keys: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], dict[str, Any]]:
        """The state of each (trigger, window start) among ``keys`` that has one, as plain
        values (read through the driver: a batch where many windows fire reads many)."""
        if not keys:
            return {}
        return {key: decoded(raw) for key, raw in self._rows.state_values(keys).items()}

    def add_state(self, row: TriggerState) -> None:
        self.session.add(row)

    def insert_states(self, rows: Sequence[dict[str, Any]]) -> None:
        """New states (no row yet for their trigger and window), as column values, in a few
        statements: a batch where many windows fire at once creates many. On SQLite through
        the driver, stored as SQLAlchemy's column types store them."""
        if not rows:
            return
        if self._rows.sqlite:
            self._rows.insert_states(rows)
            return
        table = TriggerState.__table__  # type: ignore[attr-defined]
        self.session.connection().execute(insert(table), list(rows))

    @contextmanager
    def flushed_together(self) -> Iterator[None]:
        """Rows added inside (states, history entries) are written together when the
        transaction next flushes, not one by one before each statement run inside (each
        decision's notification insert)."""
        with self.session.no_autoflush:
            yield
        self.session.flush()
