"""The console's customers: found by external id, with their triggers and their
conversation history, described as on the customer's own page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import CustomerServiceDep, HistoryServiceDep, TriggerServiceDep
from api.web.console_deps import OpsDep
from api.web.history_text import describe
from engine.errors import NotFound

router = APIRouter(prefix="/console/customers", tags=["console"], include_in_schema=False)
ExternalId = Annotated[str, Path(max_length=200)]
HISTORY_PAGE = 50


@router.get("", response_model=None)
def find(
    ops: OpsDep,
    customers: CustomerServiceDep,
    external_id: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    wanted = external_id.strip()
    if wanted:
        try:
            customers.by_external_id(ops.tenant.id, wanted)
        except NotFound:
            errors = [("external_id", ops.t("customers.unknown"))]
            return ops.page(
                "customers.html",
                404,
                title=ops.t("customers.title"),
                value=wanted,
                errors=errors,
                section="customers",
            )
        return ops.redirect(f"/console/customers/{wanted}")
    return ops.page("customers.html", title=ops.t("customers.title"), value="", section="customers")


@router.get("/{external_id}", response_class=HTMLResponse)
def customer(
    ops: OpsDep,
    customers: CustomerServiceDep,
    triggers: TriggerServiceDep,
    history: HistoryServiceDep,
    external_id: ExternalId,
    cursor: Annotated[str | None, Query(max_length=60)] = None,
) -> HTMLResponse:
    found = customers.by_external_id(ops.tenant.id, external_id)
    alerts = [triggers.public(t, found) for t in triggers.list(found)]
    page = history.page(found.id, cursor, HISTORY_PAGE)
    ops.visitor.zone = found.timezone
    return ops.page(
        "customer.html",
        title=found.name or found.external_id or found.id,
        customer=found,
        public=customers.public(found),
        triggers=alerts,
        entries=[(e, describe(e, ops.visitor.t, {})) for e in page.items],
        next_cursor=page.next_cursor,
        section="customers",
    )
