"""The console's message templates: per rule, channel and locale with the missing ones
flagged; an editor with a live preview for a chosen customer and errors beside each part."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import ConsoleTemplatesDep, CustomerServiceDep
from api.web.console_deps import Ops, OpsDep
from api.web.deps import FormDep, nul_errors, readable
from engine.console.templates import CHANNELS, ConsoleTemplates, LivePreview
from engine.customers.service import CustomerService
from engine.errors import InvalidInput, NotFound
from engine.models import Customer
from engine.templating import CHANNEL_PARTS

router = APIRouter(prefix="/console/templates", tags=["console"], include_in_schema=False)
Key = Annotated[str, Path(max_length=120, pattern=r"^[a-z][a-z0-9_.]*$")]
ChannelName = Annotated[Literal["email", "sms", "voice"], Path()]
Locale = Annotated[str, Path(max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


@router.get("", response_class=HTMLResponse)
def templates_list(ops: OpsDep, templates: ConsoleTemplatesDep) -> HTMLResponse:
    matrix = templates.matrix(ops.tenant)
    return ops.page(
        "templates.html",
        title=ops.t("nav.templates"),
        matrix=matrix,
        channels=CHANNELS,
        section="templates",
    )


@router.get("/{key}/{channel}/{locale}", response_class=HTMLResponse)
def edit_template(
    ops: OpsDep,
    templates: ConsoleTemplatesDep,
    customers: CustomerServiceDep,
    key: Key,
    channel: ChannelName,
    locale: Locale,
    customer: Annotated[str, Query(max_length=200)] = "",
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    parts = templates.parts(ops.tenant, key, channel, locale)
    said = ops.t("templates.saved") if done == "saved" else None
    return _editor(ops, templates, customers, key, channel, locale, parts, customer, done=said)


@router.post("/{key}/{channel}/{locale}", response_model=None)
def save_template(
    ops: OpsDep,
    templates: ConsoleTemplatesDep,
    customers: CustomerServiceDep,
    key: Key,
    channel: ChannelName,
    locale: Locale,
    form: FormDep,
) -> Response:
    editor = (templates, customers)
    refused, form = nul_errors(form, ops.t), readable(form)
    parts = {name: str(form.get(name) or "") for name in CHANNEL_PARTS[channel]}
    parts = {name: text for name, text in parts.items() if text or name != "html"}
    customer = str(form.get("customer") or "")[:200]
    if refused:
        return _editor(ops, *editor, key, channel, locale, parts, customer, refused, 422)
    if form.get("action") != "save":
        return _editor(ops, *editor, key, channel, locale, parts, customer)
    try:
        templates.save(ops.tenant, key, channel, locale, parts)
    except InvalidInput as exc:
        return _editor(ops, *editor, key, channel, locale, parts, customer, _errors(exc), 422)
    # The saved template's preview is rendered by the page it redirects to: a GET, which
    # holds no write lock while the template renders.
    query = {"customer": customer} if customer else {}
    return ops.redirect(f"/console/templates/{key}/{channel}/{locale}", done="saved", **query)


def _errors(exc: InvalidInput) -> list[tuple[str, str]]:
    shown = []
    for error in exc.errors:
        name = str(error.loc[-1]) if error.loc else "text"
        shown.append((name if name in ("subject", "text", "html") else "text", error.msg))
    return shown or [("text", exc.detail)]


def _editor(
    ops: Ops,
    templates: ConsoleTemplates,
    customers: CustomerService,
    key: str,
    channel: str,
    locale: str,
    parts: dict[str, str],
    external_id: str,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    errors = list(errors or [])
    customer = _customer(ops, customers, external_id, errors)
    preview: LivePreview | None = None
    if not errors:
        try:
            preview = templates.preview(ops.tenant, key, channel, locale, parts, customer)
        except InvalidInput as exc:
            errors, status = _errors(exc), 422
    return ops.page(
        "template.html",
        status,
        title=ops.t("templates.edit", key=key, channel=channel, locale=locale),
        key=key,
        channel=channel,
        locale=locale,
        parts=parts,
        part_names=CHANNEL_PARTS[channel],
        customer=external_id,
        preview=preview,
        errors=errors,
        done=done,
        section="templates",
    )


def _customer(
    ops: Ops, customers: CustomerService, external_id: str, errors: list[tuple[str, str]]
) -> Customer | None:
    if not external_id.strip():
        return None
    try:
        return customers.by_external_id(ops.tenant.id, external_id.strip())
    except NotFound:
        errors.append(("customer", ops.t("customers.unknown")))
        return None
