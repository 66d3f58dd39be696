from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.feeds.parsing import FeedFormatError, Rejection
from engine.feeds.parsing.readings import parse_csv

HEADER = "customer,metric,start,duration,value,unit,quality"


def test_rows_with_duration_end_and_quality(now: datetime) -> None:
    text = "\n".join(
        [
            HEADER,
            "c-1,electricity.consumption,2025-12-31T23:00:00Z,3600,1.5,kWh,",
            'c-2,electricity.consumption,2025-12-31T23:00:00Z,PT1H,"2,500",Wh,estimated',
            "c-3,gas.consumption,1767222000,60,0.5,m3,valid",
            "",
        ]
    )
    result = parse_csv(text.encode(), now)
    assert [r.customer for r in result.rows] == ["c-1", "c-3"]
    assert result.rows[0].quality is None
    assert result.rows[1].quality == "valid"
    assert result.rejections == [Rejection(1, "not a number: '2,500'", "value")]


def test_end_column_instead_of_duration(now: datetime) -> None:
    text = (
        "Customer ; Metric ; Start ; End ; Value ; Unit\n"
        "c-1;electricity.consumption;2025-12-31T23:00:00Z;2026-01-01T00:00:00+00:00;450;Wh\n"
    )
    (row,) = parse_csv(text.encode(), now).rows
    assert (row.duration_s, row.value, row.unit) == (3600, 0.45, "kWh")
    assert row.start == datetime(2025, 12, 31, 23, tzinfo=UTC)


def test_bom_extra_columns_and_blank_lines(now: datetime) -> None:
    text = f"\ufeff{HEADER},meter_id\n\nc-1,m.x,2025-12-31T23:00:00Z,60,1,kWh,,M-17\n\n"
    result = parse_csv(text.encode(), now)
    assert len(result.rows) == 1
    assert result.notes == ["ignored columns: meter_id"]


def test_per_row_rejections_keep_data_row_index(now: datetime) -> None:
    text = "\n".join(
        [
            HEADER,
            "c-1,m.x,2025-12-31T23:00:00Z,60,1,kWh,",
            "c-1,m.x,2025-12-31T23:00:00Z,-60,1,kWh,",
            "c-1,m.x,2025-12-31T23:00:00Z,60,inf,kWh,",
            "c-1,m.x,2025-12-31T23:00:00Z,60,1,furlongs,",
            "c-1,m.x,2025-12-31T23:00:00,60,1,kWh,",
            "c-1,m.x,2025-12-31T23:00:00Z,60,1,kWh,,surplus",
            ",m.x,2025-12-31T23:00:00Z,60,1,kWh",
        ]
    )
    result = parse_csv(text.encode(), now)
    assert len(result.rows) == 1
    assert [(r.index, r.field) for r in result.rejections] == [
        (1, "duration"),
        (2, "value"),
        (3, "unit"),
        (4, "start"),
        (5, None),
        (6, "customer"),
    ]
    assert result.rejections[2].reason == "unknown unit 'furlongs'"
    assert result.rejections[4].reason == "row has 8 cells, header 7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty body"),
        ("c-1,m.x,2025-12-31T23:00:00Z,60,1,kWh\n", "CSV header lacks column(s):"),
        ("customer,metric,start,value,unit\n", "CSV header lacks column(s): duration (or end)"),
        ("\n\n", "empty body"),
    ],
)
def test_missing_header_is_a_format_error(text: str, message: str, now: datetime) -> None:
    with pytest.raises(FeedFormatError) as info:
        parse_csv(text.encode(), now)
    assert info.value.message.startswith(message)


def test_declared_charset_is_honoured(now: datetime) -> None:
    text = f"{HEADER}\nMüller,m.x,2025-12-31T23:00:00Z,60,1,kWh,\n"
    (row,) = parse_csv(text.encode("latin-1"), now, charset="latin-1").rows
    assert row.customer == "Müller"
