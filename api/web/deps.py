"""Dependencies of page routes: the visitor, the signed-in customer, a CSRF-checked form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from api.deps import (
    ClockDep,
    CustomerServiceDep,
    HistoryServiceDep,
    SettingsDep,
    TenantServiceDep,
)
from api.web.session import CSRF_COOKIE, CSRF_FIELD, csrf_valid
from api.web.texts import DEFAULT, language_of
from api.web.visitor import Visitor, chosen_language, visitor_for
from engine.models import Customer, Tenant

WEB_SOURCE = "web"
NUL, REPLACEMENT = "\x00", "\ufffd"


class LoginRequired(Exception):
    """No valid session: the visitor is sent to the sign-in page."""


class CsrfRejected(Exception):
    """A form without this browser's CSRF token."""


def get_visitor(request: Request, settings: SettingsDep, clock: ClockDep) -> Visitor:
    return visitor_for(request, settings, int(clock.now().timestamp()))


VisitorDep = Annotated[Visitor, Depends(get_visitor)]


@dataclass
class Me:
    """The signed-in customer, their tenant and the visitor, for one request."""

    customer: Customer
    tenant: Tenant
    visitor: Visitor


def get_me(
    request: Request,
    visitor: VisitorDep,
    customers: CustomerServiceDep,
    tenants: TenantServiceDep,
    history: HistoryServiceDep,
) -> Me:
    """The signed-in customer; what this request changes is recorded as done on the web."""
    session = visitor.session
    if session is None:
        raise LoginRequired
    customer = customers.find(session.tenant_id, session.customer_id)
    tenant = tenants.find(session.tenant_id)
    if customer is None or tenant is None:
        raise LoginRequired
    history.source = WEB_SOURCE
    visitor.lang = chosen_language(request) or language_of(customer.locale) or DEFAULT
    visitor.zone, visitor.tenant_name = customer.timezone, tenant.name
    visitor.locale = customer.locale
    visitor.refresh_session()
    return Me(customer, tenant, visitor)


MeDep = Annotated[Me, Depends(get_me)]


async def checked_form(request: Request, visitor: VisitorDep) -> FormData:
    """The posted form, if it carries this browser's CSRF token."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not csrf_valid(
        visitor.settings,
        request.cookies.get(CSRF_COOKIE),
        token if isinstance(token, str) else None,
    ):
        raise CsrfRejected
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def nul_errors(form: FormData, say: Callable[[str], str]) -> list[tuple[str, str]]:
    """(field id, message) for each posted field holding U+0000, which no text may hold
    (PostgreSQL cannot store it): the route shows its form again with these, as with its
    other errors, before anything is looked up or stored. ``say`` turns ``error.nul`` into
    the page's language."""
    fields = [
        name
        for name, value in form.multi_items()
        if isinstance(value, str) and NUL in value and NUL not in name
    ]
    return [(name, say("error.nul")) for name in dict.fromkeys(fields)]


def readable(form: FormData) -> FormData:
    """The form as it is shown again: U+0000 as U+FFFD, the character browsers show for it."""
    return FormData(
        [
            (name, value.replace(NUL, REPLACEMENT) if isinstance(value, str) else value)
            for name, value in form.multi_items()
        ]
    )
