"""Dependencies of console routes: the signed-in ops key's tenant, for one request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import HistoryServiceDep, TenantServiceDep
from api.web import console_session
from api.web.console_render import console_page
from api.web.console_session import CONSOLE_COOKIE, ConsoleSession
from api.web.console_texts import console_text
from api.web.deps import VisitorDep
from api.web.visitor import Visitor
from engine.models import Role, Tenant

CONSOLE_SOURCE = "console"


class ConsoleLoginRequired(Exception):
    """No valid console session: the visitor is sent to the console's sign-in page."""


@dataclass
class Ops:
    """An ops key's session, its tenant and the visitor, for one request."""

    session: ConsoleSession
    tenant: Tenant
    visitor: Visitor

    @property
    def who(self) -> str:
        """How the history names what this session did."""
        return f"ops key {self.session.key_id}"

    def t(self, text_key: str, /, **values: object) -> str:
        return console_text(self.visitor.lang, text_key, **values)

    def page(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return console_page(self.visitor, template, status, console_signed_in=True, **values)

    def redirect(self, path: str, **query: str) -> RedirectResponse:
        return self.visitor.redirect(path, **query)


def keep_console_session(visitor: Visitor, session: ConsoleSession) -> None:
    value = console_session.encode(visitor.settings, session)
    visitor.set_cookies[CONSOLE_COOKIE] = (value, None)
    visitor.drop_cookies.discard(CONSOLE_COOKIE)


def end_console_session(visitor: Visitor) -> None:
    visitor.set_cookies.pop(CONSOLE_COOKIE, None)
    visitor.drop_cookies.add(CONSOLE_COOKIE)


def get_ops(visitor: VisitorDep, tenants: TenantServiceDep, history: HistoryServiceDep) -> Ops:
    """The signed-in ops key; what this request changes is recorded as done in the console."""
    raw = visitor.request.cookies.get(CONSOLE_COOKIE)
    session = console_session.decode(visitor.settings, raw, visitor.now)
    if session is None:
        raise ConsoleLoginRequired
    key = tenants.find_key(session.key_id)
    tenant = tenants.find(session.tenant_id)
    live = key is not None and key.revoked_at is None and key.role == Role.ops
    if not live or key is None or key.tenant_id != session.tenant_id or tenant is None:
        raise ConsoleLoginRequired
    if session.stale(visitor.now):
        session = session.touched(visitor.now)
        keep_console_session(visitor, session)
    history.source = CONSOLE_SOURCE
    visitor.tenant_name = tenant.name
    visitor.zone = tenant.default_timezone
    return Ops(session, tenant, visitor)


OpsDep = Annotated[Ops, Depends(get_ops)]
