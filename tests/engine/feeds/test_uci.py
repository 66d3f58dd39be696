from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.feeds.parsing import FeedFormatError, Rejection, detect_format, parse_uci
from tests.engine.feeds.support import data_file

PARIS = ZoneInfo("Europe/Paris")
HEADER = "Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;"
HEADER += "Sub_metering_1;Sub_metering_2;Sub_metering_3\n"


def line(day: str, clock: str, kw: str) -> str:
    return f"{day};{clock};{kw};0.418;234.840;18.400;0.000;1.000;17.000\n"


def test_real_file_missing_values_and_cut_off_last_line(now: datetime) -> None:
    body = data_file("uci/household_power_consumption_2006-12.txt").read_bytes()
    assert detect_format(body[:1024]) == "uci"
    result = parse_uci(body, "house-1", PARIS, now)
    missing = [r for r in result.rejections if r.field == "Global_active_power"]
    assert [(r.index, r.reason) for r in missing] == [
        (6839, "missing value '?'"),  # 21/12/2006 11:23, file line 6841
        (6840, "missing value '?'"),
    ]
    assert result.rejections[-1] == Rejection(15922, "truncated line", None)
    assert len(result.rejections) == 3
    assert len(result.rows) == 15920
    first = result.rows[0]
    assert first.start == datetime(2006, 12, 16, 16, 24, tzinfo=UTC)  # 17:24 CET
    assert (first.metric, first.duration_s, first.unit) == ("electricity.consumption", 60, "kWh")
    assert first.value == pytest.approx(4.216 / 60)


def test_kw_minute_average_becomes_kwh(now: datetime) -> None:
    body = HEADER + line("16/12/2006", "17:24:00", "6.000")
    (row,) = parse_uci(body.encode(), "h", PARIS, now).rows
    assert row.value == pytest.approx(0.1)


def test_repeated_hour_when_clocks_go_back_keeps_its_order(now: datetime) -> None:
    body = HEADER + "".join(
        line("28/10/2007", clock, "1.0") for clock in ("02:59:00", "02:00:00", "02:01:00")
    )
    starts = [r.start for r in parse_uci(body.encode(), "h", PARIS, now).rows]
    assert starts == [
        datetime(2007, 10, 28, 0, 59, tzinfo=UTC),  # first 02:59, still CEST
        datetime(2007, 10, 28, 1, 0, tzinfo=UTC),  # second 02:00, now CET
        datetime(2007, 10, 28, 1, 1, tzinfo=UTC),
    ]


def test_nonexistent_local_time_is_rejected(now: datetime) -> None:
    body = HEADER + line("25/03/2007", "02:30:00", "1.0")
    (rejection,) = parse_uci(body.encode(), "h", PARIS, now).rejections
    assert rejection.field == "Time"
    assert "does not exist in Europe/Paris" in rejection.reason


def test_bad_cells_and_short_lines_inside_the_file(now: datetime) -> None:
    body = HEADER + "".join(
        [
            line("32/12/2006", "17:24:00", "1.0"),
            line("16-12-2006", "17:24:00", "1.0"),
            line("16/12/2006", "17h24", "1.0"),
            line("16/12/2006", "17:24:00", "lots"),
            "16/12/2006;17:25:00;1.0\n",
            line("16/12/2006", "17:26:00", "1.0"),
        ]
    )
    result = parse_uci(body.encode(), "h", PARIS, now)
    assert len(result.rows) == 1
    assert [(r.index, r.field) for r in result.rejections] == [
        (0, "Date"),
        (1, "Date"),
        (2, "Time"),
        (3, "Global_active_power"),
        (4, None),
    ]
    assert result.rejections[-1].reason == "expected 9 fields, got 3"


def test_complete_last_line_without_newline_is_accepted(now: datetime) -> None:
    body = HEADER + line("16/12/2006", "17:24:00", "1.0").rstrip("\n")
    assert len(parse_uci(body.encode(), "h", PARIS, now).rows) == 1


def test_other_layouts_are_a_format_error(now: datetime) -> None:
    with pytest.raises(FeedFormatError):
        parse_uci(b"customer,metric\n", "h", PARIS, now)
