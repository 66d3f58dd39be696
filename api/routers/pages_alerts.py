"""The customer's alerts: choose a published rule, fill in its parameters, see how often it
would have notified on their own readings, save; change, pause, resume and delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from api.deps import PortalViewsDep, PreviewServiceDep, TriggerServiceDep
from api.web import params as param_form
from api.web.chart import chart
from api.web.deps import NUL, FormDep, Me, MeDep, nul_errors, readable
from engine.errors import InvalidInput, NotFound
from engine.portal.preview import PreviewService
from engine.portal.views import PortalViews, RuleView
from engine.templating.locales import localized
from engine.triggers.schemas import TriggerCreate, TriggerUpdate

router = APIRouter(prefix="/me/alerts", tags=["pages"], include_in_schema=False)

DONE = {"alerts.created", "alerts.changed", "alerts.paused", "alerts.resumed", "alerts.deleted"}


@router.get("", response_class=HTMLResponse)
def alerts(me: MeDep, views: PortalViewsDep, done: str | None = None) -> HTMLResponse:
    v = me.visitor
    return v.page(
        "alerts.html",
        title=v.t("alerts.title"),
        section="alerts",
        alerts=views.alerts(me.customer, v.lang),
        offers=views.offers(me.customer, v.lang),
        done=done if done in DONE else None,
    )


@router.get("/new", response_class=HTMLResponse)
def new_alert(
    me: MeDep, views: PortalViewsDep, preview: PreviewServiceDep, rule: str = ""
) -> HTMLResponse:
    offer = _offer(me, views, rule)
    return _form(me, preview, offer, {}, {}, [], trigger_id=None)


@router.post("/new", response_model=None)
def create_alert(
    me: MeDep,
    form: FormDep,
    views: PortalViewsDep,
    preview: PreviewServiceDep,
    triggers: TriggerServiceDep,
) -> Response:
    offer = _offer(me, views, str(form.get("rule") or ""))
    values, typed, errors = _parse(me, offer, form)
    if errors or form.get("action") != "save":
        return _form(me, preview, offer, values, typed, errors, trigger_id=None)
    triggers.create(me.customer, TriggerCreate(rule=offer.key, params=values))
    return me.visitor.redirect("/me/alerts", done="alerts.created")


@router.get("/{trigger_id}", response_class=HTMLResponse)
def edit_alert(
    me: MeDep, trigger_id: str, views: PortalViewsDep, preview: PreviewServiceDep
) -> HTMLResponse:
    alert = views.alert(me.customer, trigger_id, me.visitor.lang)
    return _form(me, preview, alert.rule, alert.trigger.params, {}, [], trigger_id=trigger_id)


@router.post("/{trigger_id}", response_model=None)
def change_alert(
    me: MeDep,
    trigger_id: str,
    form: FormDep,
    views: PortalViewsDep,
    preview: PreviewServiceDep,
    triggers: TriggerServiceDep,
) -> Response:
    alert = views.alert(me.customer, trigger_id, me.visitor.lang)
    values, typed, errors = _parse(me, alert.rule, form)
    if errors or form.get("action") != "save":
        return _form(me, preview, alert.rule, values, typed, errors, trigger_id=trigger_id)
    triggers.update(me.customer, trigger_id, TriggerUpdate(params=values))
    return me.visitor.redirect("/me/alerts", done="alerts.changed")


@router.post("/{trigger_id}/pause", response_model=None)
def pause_alert(me: MeDep, trigger_id: str, form: FormDep, triggers: TriggerServiceDep) -> Response:
    triggers.update(me.customer, trigger_id, TriggerUpdate(enabled=False))
    return me.visitor.redirect("/me/alerts", done="alerts.paused")


@router.post("/{trigger_id}/resume", response_model=None)
def resume_alert(
    me: MeDep, trigger_id: str, form: FormDep, triggers: TriggerServiceDep
) -> Response:
    triggers.update(me.customer, trigger_id, TriggerUpdate(enabled=True))
    return me.visitor.redirect("/me/alerts", done="alerts.resumed")


@router.get("/{trigger_id}/delete", response_class=HTMLResponse)
def delete_page(me: MeDep, trigger_id: str, views: PortalViewsDep) -> HTMLResponse:
    v = me.visitor
    alert = views.alert(me.customer, trigger_id, v.lang)
    return v.page(
        "alert_delete.html", title=v.t("alerts.delete_title"), section="alerts", alert=alert
    )


@router.post("/{trigger_id}/delete", response_model=None)
def delete_alert(
    me: MeDep, trigger_id: str, form: FormDep, triggers: TriggerServiceDep
) -> Response:
    triggers.delete(me.customer, trigger_id)
    return me.visitor.redirect("/me/alerts", done="alerts.deleted")


def _parse(
    me: Me, rule: RuleView, form: FormData
) -> tuple[dict[str, Any], dict[str, str], list[tuple[str, str]]]:
    """The parameters as posted; a field holding U+0000 is that field's error."""
    specs = rule.compiled.definition.parameters
    refused = nul_errors(form, me.visitor.t)
    values, typed, errors = param_form.parse(specs, readable(form), me.visitor.lang)
    refused_ids = {field for field, _ in refused}
    return values, typed, refused + [e for e in errors if e[0] not in refused_ids]


def _offer(me: Me, views: PortalViews, key: str) -> RuleView:
    if NUL in key:  # no rule's key holds it (PostgreSQL cannot look it up)
        raise NotFound(f"no published rule {key!r}")
    try:
        return views.offer(me.customer, key, me.visitor.lang)
    except (NotFound, InvalidInput):
        raise NotFound(f"no published rule {key!r}") from None


def _form(
    me: Me,
    previews: PreviewService,
    rule: RuleView,
    values: dict[str, Any],
    typed: dict[str, str],
    errors: list[tuple[str, str]],
    trigger_id: str | None,
) -> HTMLResponse:
    """The parameter form with, when the values fit, the preview on the customer's data."""
    v, d = me.visitor, rule.compiled.definition
    labels = {p.name: localized(dict(p.label), v.lang) for p in d.parameters}
    fields = param_form.fields(d.parameters, labels, {**values, **typed}, v.lang)
    preview = None
    complete = all(p.name in values for p in d.parameters if p.required)
    if not errors and complete:  # a new alert without defaults: nothing to try yet
        try:
            preview = previews.preview(me.customer, rule.compiled, values)
        except InvalidInput as exc:
            errors = [(param_form.FIELD_PREFIX + str(e.loc[-1]), e.msg) for e in exc.errors]
    title_key = "alerts.edit_title" if trigger_id else "alerts.new_title"
    return v.page(
        "alert_form.html",
        400 if errors else 200,
        title=v.t(title_key, title=rule.title),
        section="alerts",
        rule=rule,
        fields=fields,
        errors=errors,
        preview=preview,
        chart=chart(preview) if preview is not None and preview.applicable else None,
        trigger_id=trigger_id,
    )
