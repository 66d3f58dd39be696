from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.errors import PayloadTooLarge
from engine.feeds.parsing import FeedFormatError, detect_format, parse_greenbutton
from tests.engine.feeds.support import DATA, data_file

ESPI = "{http://naesb.org/espi}"
COASTAL = "greenbutton/Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml"
DESERT = "greenbutton/Desert_Single_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_7.xml"
PACIFIC = ZoneInfo("America/Los_Angeles")


def first_day_kwh(path: Path) -> tuple[int, float]:
    """The first 24 h of a sample year, summed straight from the XML (Wh, multiplier 0)."""
    pairs = [
        (int(r.findtext(f"{ESPI}timePeriod/{ESPI}start", "")), int(r.findtext(f"{ESPI}value", "")))
        for r in ET.parse(path).getroot().iter(f"{ESPI}IntervalReading")
    ]
    first = min(start for start, _ in pairs)
    return first, sum(v for start, v in pairs if first <= start < first + 86400) / 1000


@pytest.mark.parametrize("name", [COASTAL, DESERT])
def test_sample_years_give_8760_hourly_kwh_readings(name: str, now: datetime) -> None:
    path = data_file(name)
    result = parse_greenbutton(path.read_bytes(), "cust-5", now)
    assert len(result.rows) == 8760
    assert result.rejections == []
    assert {(r.customer, r.metric, r.unit, r.duration_s) for r in result.rows} == {
        ("cust-5", "electricity.consumption", "kWh", 3600)
    }
    first, expected = first_day_kwh(path)
    day = [r.value for r in result.rows if first <= r.start.timestamp() < first + 86400]
    assert len(day) == 24
    assert sum(day) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("name", [COASTAL, DESERT])
def test_local_days_have_23_and_25_hours_at_dst(name: str, now: datetime) -> None:
    result = parse_greenbutton(data_file(name).read_bytes(), "c", now)
    per_day = Counter(r.start.astimezone(PACIFIC).date().isoformat() for r in result.rows)
    assert per_day["2011-03-13"] == 23
    assert per_day["2011-11-06"] == 25
    assert len(per_day) == 365
    assert Counter(per_day.values()) == {24: 363, 23: 1, 25: 1}


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("greenbutton/TestGBDataHourlyNineDaysBinnedDaily.xml", 216),
        ("greenbutton/TestGBDataOneYearDailyBinnedMonthly.xml", 444),
    ],
)
def test_small_samples_with_costs(name: str, rows: int, now: datetime) -> None:
    result = parse_greenbutton(data_file(name).read_bytes(), "c", now)
    metrics = Counter((r.metric, r.unit) for r in result.rows)
    assert metrics == {("electricity.consumption", "kWh"): rows, ("electricity.cost", "USD"): rows}
    assert result.rejections == []


def test_opower_billing_file_in_therms_and_dollars(now: datetime) -> None:
    name = (
        "greenbutton/ngma_natural_gas_billing_billing_data_Service_1_1_2021-05-26_to_2024-04-25.xml"
    )
    result = parse_greenbutton(data_file(name).read_bytes(), "c", now)
    usage = [r for r in result.rows if r.metric == "gas.consumption"]
    cost = [r for r in result.rows if r.metric == "gas.cost"]
    assert len(usage) == len(cost) == 35
    assert (usage[0].value, usage[0].unit, usage[0].duration_s) == (37.0, "therm", 3024000)
    assert (cost[0].value, cost[0].unit) == (5100.0, "USD")  # 5,100,000 × 1e-5 USD = $51.00


def test_gas_feed_with_empty_reading_type_is_rejected_with_a_reason(now: datetime) -> None:
    path = data_file("greenbutton/ngma_gas_provider_2024-07-16.xml")
    result = parse_greenbutton(path.read_bytes(), "c", now)
    assert result.rows == []
    assert [r.index for r in result.rejections] == list(range(36))
    assert {r.reason for r in result.rejections} == {"the ReadingType has no uom (unit of measure)"}


def test_every_shared_file_parses_and_is_detected(now: datetime) -> None:
    files = sorted((DATA / "greenbutton").glob("*.xml"))
    if not files:
        pytest.skip(f"real Green Button files are absent from {DATA}")
    for path in files:
        body = path.read_bytes()
        assert detect_format(body[:4096]) == "greenbutton"
        result = parse_greenbutton(body, "c", now)
        assert result.rows or result.rejections, path.name


def feed(*entries: str) -> bytes:
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id>' + "".join(entries) + "</feed>"
    ).encode()


def entry(self_href: str, content: str, *related: str, up: str | None = None) -> str:
    links = f'<link rel="self" href="{self_href}"/>'
    links += f'<link rel="up" href="{up}"/>' if up else ""
    links += "".join(f'<link rel="related" href="{href}"/>' for href in related)
    return f'<entry>{links}<content><{content.split()[0]} xmlns="http://naesb.org/espi">' + (
        f"{content.partition(' ')[2]}</{content.split()[0]}></content></entry>"
    )


def reading_xml(start: str, value: int, cost: int | None = None, quality: int | None = None) -> str:
    extra = f"<cost>{cost}</cost>" if cost is not None else ""
    extra += f"<ReadingQuality><quality>{quality}</quality></ReadingQuality>" if quality else ""
    return (
        f"<IntervalReading>{extra}<timePeriod><duration>900</duration><start>{start}</start>"
        f"</timePeriod><value>{value}</value></IntervalReading>"
    )


def two_services(gas_uom: int = 169) -> bytes:
    return feed(
        entry("/UP/1", "UsagePoint <ServiceCategory><kind>0</kind></ServiceCategory>", "/UP/1/MR"),
        entry("/UP/2", "UsagePoint <ServiceCategory><kind>1</kind></ServiceCategory>", "/UP/2/MR"),
        entry("/UP/2/MR/1", "MeterReading ", "/RT/gas", "/UP/2/MR/1/IB", up="/UP/2/MR"),
        entry("/UP/1/MR/1", "MeterReading ", "/RT/el", "/UP/1/MR/1/IB", up="/UP/1/MR"),
        entry(
            "/RT/el",
            "ReadingType <currency>978</currency><powerOfTenMultiplier>-1</powerOfTenMultiplier>"
            "<uom>72</uom>",
        ),
        entry(
            "/RT/gas",
            f"ReadingType <powerOfTenMultiplier>-3</powerOfTenMultiplier><uom>{gas_uom}</uom>",
        ),
        entry(
            "/UP/1/MR/1/IB/1",
            "IntervalBlock "
            + reading_xml("1767225600", 12345, cost=250000, quality=8)
            + reading_xml("1767226500.75", 100),
            up="/UP/1/MR/1/IB",
        ),
        entry("/UP/2/MR/1/IB/1", "IntervalBlock " + reading_xml("1767225600", 1500)),
    )


def test_links_pick_service_unit_and_scale_per_meter_reading(now: datetime) -> None:
    result = parse_greenbutton(two_services(), "c", now)
    assert result.rejections == []
    electricity, cost, fractional, gas = result.rows
    assert [r.index for r in result.rows] == [0, 0, 1, 2]
    assert (electricity.metric, electricity.value, electricity.unit) == (
        "electricity.consumption",
        1.2345,  # 12345 × 10^-1 Wh
        "kWh",
    )
    assert electricity.quality == "estimated_reference_day"
    assert (cost.metric, cost.value, cost.unit) == ("electricity.cost", 250.0, "EUR")
    assert fractional.start.timestamp() == 1767226500
    assert "fractional start times were truncated to whole seconds" in result.notes
    assert (gas.metric, gas.value, gas.unit) == ("gas.consumption", 1.5, "therm")


def test_unsupported_uom_rejects_that_meter_readings_intervals(now: datetime) -> None:
    result = parse_greenbutton(two_services(gas_uom=38), "c", now)
    assert len(result.rows) == 3
    (rejection,) = result.rejections
    assert (rejection.index, rejection.field) == (2, "ReadingType")
    assert rejection.reason == "unsupported ReadingType uom 38 (W)"


def test_cost_can_be_left_out(now: datetime) -> None:
    rows = parse_greenbutton(two_services(), "c", now, cost=False).rows
    assert {r.metric for r in rows} == {"electricity.consumption", "gas.consumption"}


def test_future_and_malformed_intervals_are_rejected(now: datetime) -> None:
    body = feed(
        entry("/RT", "ReadingType <uom>72</uom>"),
        entry(
            "/IB",
            "IntervalBlock "
            + reading_xml(str(int(now.timestamp()) + 2 * 86400), 1)
            + reading_xml("soon", 1)
            + reading_xml("1767225600", 1).replace("<duration>900", "<duration>-900"),
        ),
        entry("/UP", "UsagePoint <ServiceCategory><kind>0</kind></ServiceCategory>"),
        entry("/MR", "MeterReading ", "/RT"),
    )
    result = parse_greenbutton(body, "c", now)
    assert result.rows == []
    assert [(r.index, r.field) for r in result.rejections] == [
        (0, "timePeriod.start"),
        (1, "timePeriod.start"),
        (2, "timePeriod.duration"),
    ]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<feed xmlns="http://www.w3.org/2005/Atom">&lol4;</feed>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE feed SYSTEM "http://127.0.0.1:9/evil.dtd">
<feed xmlns="http://www.w3.org/2005/Atom"/>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_xml_bombs_and_external_entities_are_refused(body: bytes, now: datetime) -> None:
    with pytest.raises(FeedFormatError) as info:
        parse_greenbutton(body, "c", now)
    assert info.value.message.startswith("forbidden XML construct")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<feed><entry>", "malformed XML"),
        (b"", "malformed XML"),
        (b"<html><body/></html>", "not a Green Button (Atom) feed"),
    ],
)
def test_unreadable_xml_is_a_format_error(body: bytes, message: str, now: datetime) -> None:
    with pytest.raises(FeedFormatError) as info:
        parse_greenbutton(body, "c", now)
    assert info.value.message.startswith(message)


def test_size_limit(now: datetime) -> None:
    with pytest.raises(PayloadTooLarge):
        parse_greenbutton(two_services(), "c", now, max_bytes=100)


def test_feed_without_readings_says_so(now: datetime) -> None:
    result = parse_greenbutton(feed(entry("/RT", "ReadingType <uom>72</uom>")), "c", now)
    assert (result.rows, result.rejections) == ([], [])
    assert result.notes == ["the feed holds no IntervalReading"]


@pytest.mark.parametrize(
    ("kind", "reading_type", "expected"),
    [
        ("2", "<uom>42</uom>", ("water.consumption", "m3", None)),
        (
            "0",
            "<flowDirection>19</flowDirection><uom>72</uom>",
            ("electricity.export", "kWh", None),
        ),
        ("", "<commodity>7</commodity><uom>42</uom>", ("gas.consumption", "m3", None)),
        ("3", "<uom>72</uom>", ("UsagePoint", "unsupported ServiceCategory kind 3")),
        ("0", "<uom>72</uom><accumulationBehaviour>1</accumulationBehaviour>", ("ReadingType",)),
    ],
)
def test_service_kind_commodity_and_flow(
    kind: str, reading_type: str, expected: tuple[str, ...], now: datetime
) -> None:
    body = feed(
        entry("/UP", f"UsagePoint <ServiceCategory><kind>{kind}</kind></ServiceCategory>"),
        entry("/MR", "MeterReading ", "/RT"),
        entry("/RT", f"ReadingType {reading_type}"),
        entry("/IB", "IntervalBlock " + reading_xml("1767225600", 7)),
    )
    result = parse_greenbutton(body, "c", now)
    if len(expected) == 3:
        (row,) = result.rows
        assert (row.metric, row.unit) == expected[:2]
    else:
        (rejection,) = result.rejections
        assert rejection.field == expected[0]
        assert expected[1:] == () or rejection.reason == expected[1]


def test_block_linked_to_no_meter_reading(now: datetime) -> None:
    body = feed(
        entry("/MR/1", "MeterReading ", "/MR/1/IB"),
        entry("/MR/2", "MeterReading ", "/MR/2/IB"),
        entry("/IB/9", "IntervalBlock " + reading_xml("1767225600", 7), up="/elsewhere"),
    )
    (rejection,) = parse_greenbutton(body, "c", now).rejections
    assert (rejection.field, rejection.reason) == (
        "MeterReading",
        "no MeterReading links to this IntervalBlock",
    )
