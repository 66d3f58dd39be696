"""Channels and consent (the topic × channel grid with provenance, channel order, contact
points masked) and quiet hours, caps, urgent override and pause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import (
    CatalogServiceDep,
    ClockDep,
    ConsentServiceDep,
    CustomerServiceDep,
    PreferencesServiceDep,
)
from api.web.deps import FormDep, Me, MeDep, nul_errors, readable
from api.web.masking import mask
from api.web.texts_en import EN
from api.web.topics import topic_names
from engine.catalog.service import CatalogService
from engine.consent.service import ConsentCell, ConsentService
from engine.customers.service import CustomerService
from engine.models import ALL_TOPICS, ChannelKind
from engine.platform.clock import Clock
from engine.preferences.schemas import (
    FrequencyCap,
    PreferencesPublic,
    PreferencesUpdate,
    QuietPeriod,
)
from engine.preferences.service import PreferencesService

router = APIRouter(prefix="/me", tags=["pages"], include_in_schema=False)

CHANNELS = [c.value for c in ChannelKind]
CONTACT_OF = {"email": "email", "sms": "phone", "voice": "phone"}
PAUSE_MAX_DAYS = 366
CHANNEL_DONE = {"channels.saved", "channels.order.saved"}
SETTINGS_DONE = {"settings.saved", "settings.paused", "settings.resumed"}


def cell_id(channel: str, topic: str) -> str:
    return f"c_{channel}_{'all' if topic == ALL_TOPICS else topic}"


# Channels and consent ------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelsPage:
    """What the channels page reads: the consent grid, contact points, the channel order and
    the topics' names."""

    consent: ConsentService
    customers: CustomerService
    preferences: PreferencesService
    catalog: CatalogService


def channels_page(
    consent: ConsentServiceDep,
    customers: CustomerServiceDep,
    preferences: PreferencesServiceDep,
    catalog: CatalogServiceDep,
) -> ChannelsPage:
    return ChannelsPage(consent, customers, preferences, catalog)


ChannelsPageDep = Annotated[ChannelsPage, Depends(channels_page)]


@router.get("/channels", response_class=HTMLResponse)
def channels(me: MeDep, page: ChannelsPageDep, done: str | None = None) -> HTMLResponse:
    return _channels_page(me, page, done=done if done in CHANNEL_DONE else None)


@router.post("/channels", response_model=None)
def save_consent(me: MeDep, form: FormDep, consent: ConsentServiceDep) -> Response:
    """Each box as the customer left it: all-topics boxes first, then each topic's, so that
    what the page showed checked is what is granted."""
    c = me.customer
    for all_topics in (True, False):
        for cell in consent.grid(c.tenant_id, c.id):
            if (cell.topic == ALL_TOPICS) != all_topics:
                continue
            wanted = form.get(cell_id(cell.channel, cell.topic)) == "on"
            if wanted != cell.granted or (cell.decided_by is None and wanted):
                consent.set(c.tenant_id, c.id, cell.channel, cell.topic, wanted, source="web")
    return me.visitor.redirect("/me/channels", done="channels.saved")


@router.post("/channels/order", response_model=None)
def save_order(me: MeDep, form: FormDep, page: ChannelsPageDep) -> Response:
    chosen = [str(form.get(f"order_{n}") or "") for n in (1, 2, 3)]
    errors = nul_errors(form, me.visitor.t)
    if errors:
        return _channels_page(me, page, 400, errors=errors, order=[""] * 3)
    order = [c for c in chosen if c]
    try:
        change = PreferencesUpdate.model_validate({"channel_order": order})
    except ValidationError:
        errors = [("order_1", me.visitor.t("channels.order.error"))]
        return _channels_page(me, page, 400, errors=errors, order=chosen)
    page.preferences.update(me.customer.tenant_id, me.customer.id, change)
    return me.visitor.redirect("/me/channels", done="channels.order.saved")


def _channels_page(
    me: Me,
    page: ChannelsPage,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    **values: Any,
) -> HTMLResponse:
    v, c = me.visitor, me.customer
    cells = page.consent.grid(c.tenant_id, c.id)
    topics = list(dict.fromkeys(cell.topic for cell in cells))
    grid = {(cell.channel, cell.topic): cell for cell in cells}
    contacts = page.customers.contact_addresses(c.id)
    order = values.pop("order", None) or [str(x) for x in page.preferences.get(c.id).channel_order]
    return v.page(
        "channels.html",
        status,
        title=v.t("channels.title"),
        section="channels",
        channels=CHANNELS,
        topics=topics,
        topic_names=topic_names(me, page.catalog, topics),
        grid=grid,
        provenance={key: _provenance(me, cell) for key, cell in grid.items()},
        cell_id=cell_id,
        contacts={str(k): mask(a) for k, a in contacts.items()},
        contact_of=CONTACT_OF,
        order=[*order, "", "", ""][:3],
        errors=errors or [],
        **values,
    )


def _provenance(me: Me, cell: ConsentCell) -> str:
    """ "granted 3 March 2027 on this page": the consent that decides this box."""
    v, row = me.visitor, cell.decided_by
    if row is None:
        return v.t("channels.never")
    key = f"source.{row.source}"
    how = v.t(key, tenant=me.tenant.name) if key in EN else v.t("source.other", source=row.source)
    when = v.formatter().date(row.changed_at)
    return v.t("channels.granted_on" if row.granted else "channels.revoked_on", when=when, how=how)


# Quiet hours, caps, urgent override, pause ---------------------------------------------


@router.get("/settings", response_class=HTMLResponse)
def settings(
    me: MeDep, preferences: PreferencesServiceDep, clock: ClockDep, done: str | None = None
) -> HTMLResponse:
    return _settings_page(me, preferences, clock, done=done if done in SETTINGS_DONE else None)


@router.post("/settings", response_model=None)
def save_settings(
    me: MeDep, form: FormDep, preferences: PreferencesServiceDep, clock: ClockDep
) -> Response:
    errors = nul_errors(form, me.visitor.t)
    if errors:
        return _settings_page(me, preferences, clock, 400, errors=errors, posted=readable(form))
    current = preferences.get(me.customer.id)
    patch: dict[str, Any] = {"quiet_hours": {}, "frequency_caps": {}}
    for channel in CHANNELS:
        kind = ChannelKind(channel)
        quiet, stored = _quiet_from(form, channel, me, errors), current.quiet_hours.get(kind, [])
        if quiet:  # the page edits the first period; further ones (set elsewhere) stay
            quiet = quiet + stored[1:]
        if quiet is not None and quiet != stored:
            patch["quiet_hours"][channel] = [q.model_dump() for q in quiet]
        cap = _cap_from(form, channel, me, errors)
        if cap != current.frequency_caps.get(kind):
            patch["frequency_caps"][channel] = cap.model_dump() if cap else None
    urgent = form.get("urgent_override") == "on"
    if urgent != current.urgent_override:
        patch["urgent_override"] = urgent
    if errors:
        return _settings_page(me, preferences, clock, 400, errors=errors, posted=form)
    change = PreferencesUpdate.model_validate({k: v for k, v in patch.items() if v != {}})
    preferences.update(me.customer.tenant_id, me.customer.id, change)
    return me.visitor.redirect("/me/settings", done="settings.saved")


@router.post("/settings/pause", response_model=None)
def pause(
    me: MeDep, form: FormDep, preferences: PreferencesServiceDep, clock: ClockDep
) -> Response:
    """Nothing is sent until the end of the chosen day in the customer's zone."""
    v, zone = me.visitor, ZoneInfo(me.customer.timezone)
    errors = nul_errors(form, v.t)
    if errors:
        return _settings_page(me, preferences, clock, 400, errors=errors, posted=readable(form))
    today = clock.now().astimezone(zone).date()
    try:
        day = date.fromisoformat(str(form.get("pause_until") or "").strip())
    except ValueError:
        day = None
    if day is None or not today <= day <= today + timedelta(days=PAUSE_MAX_DAYS):
        errors = [("pause_until", v.t("settings.pause.error"))]
        return _settings_page(me, preferences, clock, 400, errors=errors, posted=form)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    change = PreferencesUpdate.model_validate({"paused_until": end})
    preferences.update(me.customer.tenant_id, me.customer.id, change)
    return v.redirect("/me/settings", done="settings.paused")


@router.post("/settings/resume", response_model=None)
def resume(me: MeDep, form: FormDep, preferences: PreferencesServiceDep) -> Response:
    change = PreferencesUpdate.model_validate({"paused_until": None})
    preferences.update(me.customer.tenant_id, me.customer.id, change)
    return me.visitor.redirect("/me/settings", done="settings.resumed")


def _quiet_from(
    form: FormData, channel: str, me: Me, errors: list[tuple[str, str]]
) -> list[QuietPeriod] | None:
    """The channel's one quiet period as posted ([] when switched off); None if invalid."""
    if form.get(f"q_{channel}_on") != "on":
        return []
    days = [int(d) for d in form.getlist(f"q_{channel}_days") if isinstance(d, str) and d.isdigit()]
    if not days:
        errors.append((f"q_{channel}_days", me.visitor.t("settings.quiet.days_error")))
        return None
    try:
        start = str(form.get(f"q_{channel}_start") or "").strip()
        end = str(form.get(f"q_{channel}_end") or "").strip()
        return [QuietPeriod(start=start, end=end, days=days)]
    except ValidationError:
        errors.append((f"q_{channel}_start", me.visitor.t("settings.quiet.error")))
        return None


def _cap_from(
    form: FormData, channel: str, me: Me, errors: list[tuple[str, str]]
) -> FrequencyCap | None:
    text = str(form.get(f"cap_{channel}") or "").strip()
    if not text:
        return None
    try:
        per = str(form.get(f"cap_{channel}_per") or "day")
        return FrequencyCap.model_validate({"max": int(text), "per": per})
    except (ValueError, ValidationError):
        errors.append((f"cap_{channel}", me.visitor.t("settings.caps.error")))
        return None


def _settings_page(
    me: Me,
    preferences: PreferencesService,
    clock: Clock,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    **values: Any,
) -> HTMLResponse:
    v = me.visitor
    prefs = preferences.get(me.customer.id)
    paused = prefs.paused_until
    active = paused is not None and paused > clock.now()
    posted: FormData | None = values.pop("posted", None)
    shown = _posted(posted) if posted is not None else _stored(prefs)
    return v.page(
        "settings.html",
        status,
        title=v.t("settings.title"),
        section="settings",
        channels=CHANNELS,
        form=shown,
        paused_until=(paused - timedelta(seconds=1)) if active and paused else None,
        zone=me.customer.timezone,
        errors=errors or [],
        **values,
    )


def _stored(prefs: PreferencesPublic) -> dict[str, Any]:
    """The settings form's fields as the stored preferences fill them."""
    shown: dict[str, Any] = {"urgent_override": prefs.urgent_override, "pause_until": ""}
    for channel in CHANNELS:
        kind = ChannelKind(channel)
        periods = prefs.quiet_hours.get(kind) or []
        first = periods[0] if periods else None
        shown[f"q_{channel}_on"] = first is not None
        shown[f"q_{channel}_start"] = first.start if first else ""
        shown[f"q_{channel}_end"] = first.end if first else ""
        shown[f"q_{channel}_days"] = first.days if first else list(range(7))
        cap = prefs.frequency_caps.get(kind)
        shown[f"cap_{channel}"] = str(cap.max) if cap else ""
        shown[f"cap_{channel}_per"] = cap.per if cap else "day"
    return shown


def _posted(form: FormData) -> dict[str, Any]:
    """The settings form's fields as the customer typed them (shown again with errors)."""
    shown: dict[str, Any] = {
        "urgent_override": form.get("urgent_override") == "on",
        "pause_until": str(form.get("pause_until") or ""),
    }
    for channel in CHANNELS:
        shown[f"q_{channel}_on"] = form.get(f"q_{channel}_on") == "on"
        for name in ("start", "end"):
            shown[f"q_{channel}_{name}"] = str(form.get(f"q_{channel}_{name}") or "")
        days = form.getlist(f"q_{channel}_days")
        shown[f"q_{channel}_days"] = [int(d) for d in days if isinstance(d, str) and d.isdigit()]
        shown[f"cap_{channel}"] = str(form.get(f"cap_{channel}") or "")
        shown[f"cap_{channel}_per"] = str(form.get(f"cap_{channel}_per") or "day")
    return shown
