"""The customer's page: overview, history with "why did I get this?", and my data."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.deps import (
    CatalogServiceDep,
    CustomerServiceDep,
    HistoryServiceDep,
    PortalViewsDep,
    PrivacyServiceDep,
)
from api.web.deps import FormDep, Me, MeDep, nul_errors, readable
from api.web.history_text import describe
from api.web.texts import LANGUAGES, language_of
from api.web.topics import topic_names
from engine.customers.schemas import CustomerUpdate
from engine.models import HistoryKind
from engine.platform.validation import check_timezone

router = APIRouter(prefix="/me", tags=["pages"], include_in_schema=False)

RECENT_MESSAGES = 5
HISTORY_PAGE = 30
MAX_NAME = 200
DONE = {"logout.done"}


def _done(key: str | None, allowed: set[str]) -> str | None:
    """A confirmation to show after a redirect (only the ones this page knows)."""
    return key if key in allowed else None


@router.get("", response_class=HTMLResponse)
def overview(me: MeDep, views: PortalViewsDep, history: HistoryServiceDep) -> HTMLResponse:
    v, customer = me.visitor, me.customer
    alerts = views.alerts(customer, v.lang)
    messages = history.page(
        customer.id, None, RECENT_MESSAGES, kinds=[HistoryKind.message.value]
    ).items
    return v.page(
        "overview.html",
        title=v.t("overview.title"),
        section="overview",
        name=customer.name or "",
        alerts=alerts,
        messages=messages,
    )


@router.get("/history", response_class=HTMLResponse)
def history(
    me: MeDep,
    history: HistoryServiceDep,
    catalog: CatalogServiceDep,
    cursor: str | None = None,
) -> HTMLResponse:
    v = me.visitor
    page = history.page(me.customer.id, cursor, HISTORY_PAGE)
    topics = {str(e.data.get("topic")) for e in page.items if e.data.get("topic")} - {"*"}
    names = topic_names(me, catalog, topics)
    return v.page(
        "history.html",
        title=v.t("history.title"),
        section="history",
        entries=[(e, describe(e, v.t, names)) for e in page.items],
        next_cursor=page.next_cursor,
        first_page=cursor is None,
    )


@router.get("/history/{notification_id}", response_class=HTMLResponse)
def why(me: MeDep, notification_id: str, views: PortalViewsDep) -> HTMLResponse:
    """Why did I get this: the rule, my parameters then, the values that made it true."""
    v = me.visitor
    row = views.notification(me.customer, notification_id)
    if row is None:
        return v.page(
            "message.html", 404, title=v.t("error.not_found"), message=v.t("error.not_found.text")
        )
    version = (row.tenant_id, row.rule_key, row.rule_version)
    values = row.why.get("values", {})
    window = values.get("window") if isinstance(values.get("window"), dict) else {}
    start = window.get("start") if window else None
    return v.page(
        "why.html",
        title=v.t("why.title"),
        section="history",
        rule_title=views.rule_title(*version, v.lang),
        labels=views.parameter_labels(*version, v.lang),
        notification=row,
        period=datetime.fromisoformat(str(start).replace("Z", "+00:00")) if start else None,
        params=row.why.get("params", {}),
        values=values,
        unit=row.why.get("unit") or "",
    )


@router.get("/data", response_class=HTMLResponse)
def my_data(me: MeDep, done: str | None = None) -> HTMLResponse:
    return _data_page(me, done=done if done == "profile.saved" else None)


@router.post("/data/profile", response_model=None)
def save_profile(me: MeDep, form: FormDep, customers: CustomerServiceDep) -> Response:
    """Name, the language of their messages and their time zone (as ``PATCH /v1/me``)."""
    v, customer = me.visitor, me.customer
    typed = {k: str(form.get(k) or "").strip() for k in ("name", "language", "timezone")}
    errors, fields = nul_errors(form, v.t), {}
    if errors:
        shown = readable(form)
        return _data_page(me, 400, errors=errors, profile={k: str(shown.get(k)) for k in typed})
    if len(typed["name"]) > MAX_NAME:
        errors.append(("name", v.t("profile.name.error")))
    elif typed["name"] != (customer.name or "") and typed["name"]:
        fields["name"] = typed["name"]
    if typed["language"] in LANGUAGES and typed["language"] != language_of(customer.locale):
        fields["locale"] = typed["language"]
    try:
        zone = check_timezone(typed["timezone"])
        if zone != customer.timezone:
            fields["timezone"] = zone
    except ValueError:
        errors.append(("timezone", v.t("profile.timezone.error")))
    if errors:
        return _data_page(me, 400, errors=errors, profile=typed)
    if fields:
        customers.update(customer, CustomerUpdate.model_validate(fields), by="customer")
    return v.redirect("/me/data", done="profile.saved")


def _data_page(me: Me, status: int = 200, **values: Any) -> HTMLResponse:
    v, c = me.visitor, me.customer
    profile = values.pop("profile", None) or {
        "name": c.name or "",
        "language": language_of(c.locale) or "en",
        "timezone": c.timezone,
    }
    return v.page(
        "data.html", status, title=v.t("data.title"), section="data", profile=profile, **values
    )


@router.get("/data/export")
def export(me: MeDep, privacy: PrivacyServiceDep) -> Response:
    """The same JSON as ``GET /v1/me/export``, as a download."""
    body = json.dumps(privacy.export(me.customer), ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/data/delete", response_class=HTMLResponse)
def delete_page(me: MeDep) -> HTMLResponse:
    v = me.visitor
    return v.page("delete.html", title=v.t("data.delete.confirm_title"), section="data")


@router.post("/data/delete", response_class=HTMLResponse)
def delete_account(me: MeDep, form: FormDep, privacy: PrivacyServiceDep) -> HTMLResponse:
    v = me.visitor
    if form.get("confirm") != "yes":
        errors = [("confirm", v.t("data.delete.check_error"))]
        return v.page(
            "delete.html",
            400,
            title=v.t("data.delete.confirm_title"),
            section="data",
            errors=errors,
        )
    privacy.erase(me.customer, by="customer")
    v.end_session()
    return v.page("message.html", title=v.t("data.deleted.title"), message=v.t("data.deleted.text"))
