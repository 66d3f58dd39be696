"""Properties of quiet hours and frequency caps, checked against an oracle written from the
customer's wall clock, not from the product's code.

The customer's reading: a quiet period ``start``–``end`` on a day D (one of ``days``, the days
on which a period starts) covers the instants from the first moment D's wall clock shows
``start`` or later to the first moment it shows ``end`` or later (on the next day when ``end``
is not after ``start``). A wall time the clocks skip is reached when they jump past it; one
they repeat is reached the first time. Periods that touch or overlap are one quiet stretch. A
message due inside a stretch goes out exactly when the stretch ends, never inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.consent.resolution import ConsentEntry
from engine.delivery.planner import Defer, Recipient, Send, SentLog, Stop, plan
from engine.delivery.policies import cap_period, quiet_until
from engine.models import ChannelKind, Customer, Notification, NotificationStatus
from engine.platform.validation import check_timezone
from engine.preferences.schemas import FrequencyCap, PreferencesPublic, QuietPeriod

ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
HORIZON = timedelta(days=8)
MINUTE, SECOND = timedelta(minutes=1), timedelta(seconds=1)
EVENINGS = [{"start": "21:00", "end": "08:00"}]
EARLY_MORNINGS = [{"start": "02:30", "end": "06:00"}]  # starts in the hour Berlin skips in March
FRIDAY_NIGHTS = [{"start": "21:00", "end": "08:00", "days": [4]}]
CHECKED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the oracle -----------------------------------------------------------------------------


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def reached(w: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at which the wall clock in ``zone`` shows ``w`` or later."""
    guess = w.replace(tzinfo=UTC)
    offsets = {
        (guess + timedelta(hours=h)).astimezone(zone).utcoffset() or timedelta(0)
        for h in range(-48, 49, 2)
    }
    readings = sorted(guess - offset for offset in offsets)
    exact = [t for t in readings if wall(t, zone) == w]
    if exact:
        return exact[0]
    # Skipped by the clocks: walk from the last reading before ``w`` to the jump.
    t = max(t for t in readings if wall(t, zone) < w)
    while wall(t + MINUTE, zone) < w:
        t += MINUTE
    while wall(t, zone) < w:
        t += SECOND
    return t


def stretches(
    zone: ZoneInfo, periods: list[dict[str, Any]], around: datetime
) -> list[tuple[datetime, datetime]]:
    today = wall(around, zone).date()
    found = []
    for p in periods:
        start, end = time.fromisoformat(p["start"]), time.fromisoformat(p["end"])
        for offset in range(-3, 20):
            day = today + timedelta(days=offset)
            if day.weekday() not in (p.get("days") or ALL_DAYS):
                continue
            end_day = day + timedelta(days=1) if end <= start else day
            found.append(
                (
                    reached(datetime.combine(day, start), zone),
                    reached(datetime.combine(end_day, end), zone),
                )
            )
    return found


def first_free(now: datetime, zone: ZoneInfo, periods: list[dict[str, Any]]) -> datetime | None:
    """The first instant at or after ``now`` outside every quiet period; None when it is quiet
    for more than a week from ``now`` (periods repeat weekly: quiet all the time)."""
    spans = stretches(zone, periods, now)
    t = now
    while t - now <= HORIZON:
        ends = [end for start, end in spans if start <= t < end]
        if not ends:
            return t
        t = max(ends)
    return None


def is_quiet(t: datetime, zone: ZoneInfo, periods: list[dict[str, Any]]) -> bool:
    return any(start <= t < end for start, end in stretches(zone, periods, t))


# --- strategies -----------------------------------------------------------------------------


@cache
def transitions(key: str, year: int) -> tuple[datetime, ...]:
    """Instants in ``year`` at which the zone's offset changes (to within a day: we only need
    instants close to them)."""
    zone = ZoneInfo(key)
    t, found = datetime(year, 1, 1, tzinfo=UTC), []
    last = t.astimezone(zone).utcoffset()
    while t.year == year:
        t += timedelta(hours=6)
        offset = t.astimezone(zone).utcoffset()
        if offset != last:
            found.append(t)
        last = offset
    return tuple(found)


def _accepted(key: str) -> bool:
    try:
        check_timezone(key)
    except ValueError:
        return False
    return True


zones = st.one_of(
    st.sampled_from(["Europe/Berlin", "Australia/Sydney", "America/New_York", "Asia/Kolkata"]),
    # Zones a customer can have: no "right/" (leap-second clocks) or "posix/" copies.
    st.timezone_keys(allow_prefix=False).filter(_accepted),
)
minutes_of_day = st.integers(0, 24 * 60 - 1).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")


@st.composite
def period(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(minutes_of_day)
    end = draw(minutes_of_day.filter(lambda e: e != start))
    found: dict[str, Any] = {"start": start, "end": end}
    days = draw(st.none() | st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True))
    if days is not None:
        found["days"] = sorted(days)
    return found


@st.composite
def instant(draw: st.DrawFn, key: str) -> datetime:
    """Any instant 1995–2035, half of the time within 30 hours of a clock change."""
    year = draw(st.integers(1995, 2035))
    near = transitions(key, year)
    if near and draw(st.booleans()):
        base = draw(st.sampled_from(near))
        return base + timedelta(seconds=draw(st.integers(-30 * 3600, 30 * 3600)))
    start = datetime(year, 1, 1, tzinfo=UTC)
    return start + timedelta(seconds=draw(st.integers(0, 365 * 86400)))


@dataclass(frozen=True)
class Case:
    zone: str
    now: datetime
    periods: list[dict[str, Any]]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    key = draw(zones)
    return Case(key, draw(instant(key)), draw(st.lists(period(), min_size=1, max_size=3)))


# --- quiet hours ----------------------------------------------------------------------------


@CHECKED
@given(cases())
@example(Case("Europe/Berlin", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), EVENINGS))
@example(Case("Australia/Sydney", datetime(2026, 4, 4, 16, 30, tzinfo=UTC), EVENINGS))
@example(Case("Europe/Berlin", datetime(2026, 3, 29, 1, 10, tzinfo=UTC), EARLY_MORNINGS))
@example(Case("Europe/Berlin", datetime(2026, 6, 13, 0, 0, tzinfo=UTC), FRIDAY_NIGHTS))
def test_deferred_to_exactly_the_end_of_the_quiet_stretch(case: Case) -> None:
    zone = ZoneInfo(case.zone)
    expected = first_free(case.now, zone, case.periods)
    got = quiet_until(case.now, case.zone, case.periods)
    if expected is None:  # quiet all the time: never sent, deferred again and again
        assert got is not None and got > case.now
        assert quiet_until(got, case.zone, case.periods) is not None
    elif expected == case.now:
        assert got is None, f"quiet until {got} though the customer's clock says free"
    else:
        assert got == expected, (
            f"{case.now:%Y-%m-%d %H:%M:%S}Z, local {wall(case.now, zone)}: "
            f"deferred to {got and wall(got, zone)} instead of {wall(expected, zone)}"
        )


@CHECKED
@given(cases(), st.booleans())
def test_a_planned_email_is_never_sent_inside_quiet_hours(case: Case, urgent: bool) -> None:
    recipient = _recipient(case.zone, quiet_hours={"email": case.periods}, override=urgent)
    notification = _notification(urgency="urgent" if urgent else "normal")
    decided = plan(notification, recipient, case.now, lambda channel, since: 0)
    zone = ZoneInfo(case.zone)
    quiet = is_quiet(case.now, zone, case.periods)
    if urgent or not quiet:
        assert isinstance(decided, Send) and decided.channel == "email"
    else:
        assert isinstance(decided, Defer)
        assert decided.reason.startswith("quiet hours for email until ")
        assert decided.reason.endswith(decided.until.astimezone(zone).strftime("%H:%M"))
        free = first_free(case.now, zone, case.periods)
        if free is not None:
            assert decided.until == free


# --- frequency caps -------------------------------------------------------------------------


def _offset(t: datetime, zone: ZoneInfo) -> timedelta | None:
    return t.astimezone(zone).utcoffset()


def local_period(per: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The customer's clock hour, calendar day or ISO week around ``now``, from the wall clock;
    a clock change inside an hour cuts it there."""
    local = now.astimezone(zone)
    if per == "hour":
        top = now - timedelta(minutes=local.minute, seconds=local.second)
        grid = [top + k * MINUTE for k in range(61)]
        changes = [
            t for t, u in zip(grid, grid[1:], strict=False) if _offset(u, zone) != _offset(t, zone)
        ]
        cuts = [t + MINUTE for t in changes]
        start = max([top, *(c for c in cuts if c <= now)])
        end = min([top + timedelta(hours=1), *(c for c in cuts if c > now)])
        return start, end
    first: date = local.date()
    if per == "week":
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if per == "week" else 1)
    return reached(datetime.combine(first, time()), zone), reached(
        datetime.combine(first + step, time()), zone
    )


@CHECKED
@given(
    zones.flatmap(lambda key: st.tuples(st.just(key), instant(key))),
    st.sampled_from(["hour", "day", "week"]),
)
@example(("Europe/Berlin", datetime(2026, 3, 29, 12, 0, tzinfo=UTC)), "day")
@example(("Europe/Berlin", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)), "hour")
@example(("Australia/Sydney", datetime(2026, 10, 4, 12, 0, tzinfo=UTC)), "week")
def test_cap_periods_are_the_customers_clock_hours_days_and_weeks(
    zoned: tuple[str, datetime], per: str
) -> None:
    key, now = zoned
    start, end = cap_period(now, key, per)
    assert (start, end) == local_period(per, now, ZoneInfo(key))
    assert start <= now < end


@CHECKED
@given(
    zones.flatmap(lambda key: st.tuples(st.just(key), instant(key))),
    st.sampled_from(["hour", "day", "week"]),
    st.integers(1, 4),
    st.lists(st.integers(0, 8 * 86400), max_size=8),
    st.sampled_from(["defer", "suppress"]),
)
def test_beyond_the_cap_a_message_waits_for_the_next_period_or_is_suppressed(
    zoned: tuple[str, datetime], per: str, cap: int, ago: list[int], policy: str
) -> None:
    key, now = zoned
    recipient = _recipient(key, caps={"email": {"max": cap, "per": per}})
    sent = SentLog(("c1", "email", now - timedelta(seconds=s)) for s in ago)
    start, end = cap_period(now, key, per)
    already = sum(1 for s in ago if now - timedelta(seconds=s) >= start)

    decided = plan(
        _notification(), recipient, now, lambda ch, since: sent.count("c1", ch, since), policy
    )

    if already < cap:
        assert isinstance(decided, Send)
    elif policy == "defer":
        assert isinstance(decided, Defer) and decided.until == end
        assert decided.reason == f"frequency cap reached: at most {cap} email per {per}"
    else:
        assert isinstance(decided, Stop) and decided.status == NotificationStatus.suppressed
        assert decided.reason == f"frequency cap reached: at most {cap} email per {per}"


# --- plain values for the planner -----------------------------------------------------------


def _recipient(
    zone: str,
    *,
    quiet_hours: dict[str, list[dict[str, Any]]] | None = None,
    caps: dict[str, dict[str, Any]] | None = None,
    override: bool = False,
) -> Recipient:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    customer = Customer(
        id="c1", tenant_id="t1", locale="de-DE", timezone=zone, created_at=at, updated_at=at
    )
    preferences = PreferencesPublic(
        channel_order=[ChannelKind.email],
        quiet_hours={
            ChannelKind(ch): [QuietPeriod.model_validate(p) for p in ps]
            for ch, ps in (quiet_hours or {}).items()
        },
        frequency_caps={
            ChannelKind(ch): FrequencyCap.model_validate(c) for ch, c in (caps or {}).items()
        },
        urgent_override=override,
        updated_at=None,
    )
    consent = [ConsentEntry("email", "*", granted=True, revision=1)]
    return Recipient(customer, {"email": "anna@example.com"}, consent, preferences)


def _notification(urgency: str = "normal") -> Notification:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Notification(
        id="n1",
        tenant_id="t1",
        customer_id="c1",
        trigger_id="g1",
        rule_key="energy.daily_above",
        rule_version=1,
        topic="energy",
        urgency=urgency,
        occurrence="w:1",
        transition="fire",
        status=NotificationStatus.pending,
        due_at=at,
        why={},
        channel_order=["email"],
        created_at=at,
        updated_at=at,
    )
