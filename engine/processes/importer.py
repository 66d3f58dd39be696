"""Import a file of readings (JSON, NDJSON, CSV, Green Button XML, UCI text) in batches, the
same way the feed API ingests them: each batch is one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.errors import FieldError
from engine.feeds.parsing import (
    ParseResult,
    Rejection,
    detect_format,
    parse_csv,
    parse_greenbutton,
    parse_json,
    parse_ndjson,
    parse_uci,
)
from engine.feeds.schemas import BatchResult, RejectedRow
from engine.platform import nul
from engine.processes.container import Services
from engine.processes.runtime import Runtime

MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass
class ImportReport:
    rows: int = 0
    accepted: int = 0
    duplicate: int = 0
    corrected: int = 0
    rejected: int = 0
    notifications: int = 0
    rejections: list[RejectedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_file(
    runtime: Runtime, path: Path, tenant_id: str, customer: str | None, fmt: str = "auto"
) -> ParseResult:
    """The file's rows, parsed for ``tenant_id``; a row with U+0000 in a value is rejected
    naming the field (PostgreSQL cannot store it). Raises ``ValueError`` or a domain error
    (an unknown tenant or customer) with a message for the command line."""
    with runtime.services() as services:
        services.tenants.get_tenant(tenant_id)
    body = path.read_bytes()
    if len(body) > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    kind = detect_format(body[:4096]) if fmt == "auto" else fmt
    now = runtime.clock.now()
    if kind in ("greenbutton", "uci"):
        if customer is None:
            raise ValueError(f"{kind} files hold one customer's data: pass --customer")
        with runtime.services() as services:
            found = services.customers.by_external_id(tenant_id, customer)
            zone = ZoneInfo(found.timezone)
        if kind == "greenbutton":
            return parse_greenbutton(body, customer, now, max_bytes=MAX_FILE_BYTES)
        return parse_uci(body, customer, zone, now)
    parsers: dict[str, Callable[[bytes, datetime], ParseResult]] = {
        "json": parse_json,
        "ndjson": parse_ndjson,
        "csv": lambda body, at: parse_csv(body, at),
    }
    return without_nul(parsers[kind](body, now), _rows_with_nul(body, kind))


def _rows_with_nul(body: bytes, kind: str) -> dict[int, str | None]:
    """Each row holding U+0000, with the first field that does (XML cannot hold it; UCI text
    is numbers but for the customer given on the command line)."""
    if not nul.may_hold_nul(body):
        return {}
    finders: dict[str, Callable[[bytes], list[FieldError]]] = {
        "json": partial(nul.in_json, root=()),
        "ndjson": partial(nul.in_ndjson, root=()),
        "csv": partial(nul.in_csv, root=()),
    }
    found: dict[int, str | None] = {}
    for error in finders[kind](body):
        if error.loc and isinstance(error.loc[0], int):
            field = str(error.loc[1]) if len(error.loc) > 1 else None
            found.setdefault(error.loc[0], field)
    return found


def without_nul(parsed: ParseResult, found: dict[int, str | None]) -> ParseResult:
    """The parse with every row in ``found`` rejected for its U+0000, whatever else the
    parser said of it: nothing of such a row is stored."""
    if not found:
        return parsed
    refused = [Rejection(index, nul.MESSAGE, field) for index, field in found.items()]
    kept = [r for r in parsed.rejections if r.index not in found]
    return ParseResult(
        rows=[row for row in parsed.rows if row.index not in found],
        rejections=sorted([*kept, *refused], key=lambda r: r.index),
        notes=parsed.notes,
    )


def batches(parsed: ParseResult, size: int) -> Iterator[ParseResult]:
    for start in range(0, len(parsed.rows), size):
        yield ParseResult(rows=parsed.rows[start : start + size])


def _ingest(services: Services, tenant_id: str, batch: ParseResult) -> BatchResult:
    return services.feeds.ingest(tenant_id, batch)


def import_readings(
    runtime: Runtime,
    tenant_id: str,
    parsed: ParseResult,
    batch_size: int,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Ingest every batch; the parser's own rejections and notes are reported too."""
    report = ImportReport(rows=len(parsed.rows) + len(parsed.rejections), notes=parsed.notes)
    report.rejections = [
        RejectedRow(index=r.index, reason=r.reason, field=r.field) for r in parsed.rejections
    ]
    for batch in batches(parsed, batch_size):
        result = runtime.run(partial(_ingest, tenant_id=tenant_id, batch=batch))
        for name in ("accepted", "duplicate", "corrected", "notifications"):
            setattr(report, name, getattr(report, name) + getattr(result, name))
        report.rejections += result.rejections
        progress(len(batch.rows))
    report.rejections.sort(key=lambda r: r.index)
    report.rejected = len(report.rejections)
    return report
