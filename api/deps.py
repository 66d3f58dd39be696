"""Request dependencies: the unit of work, the caller, and the one service a route calls.

A request is one unit of work: `request_unit_of_work` opens it and commits it when the route
returns.
Routes never see it; each declares the service it calls (`CustomerServiceDep`, ...), built
over the request's session by `engine.processes.container` and shared within the request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.auth.limits import attempt_names
from engine.auth.service import Authenticator, Caller, Principal, key_id_of
from engine.catalog.backtest import BacktestService
from engine.catalog.service import CatalogService
from engine.consent.service import ConsentService
from engine.console.backtests import ConsoleBacktests
from engine.console.deliveries import ConsoleDeliveries
from engine.console.rules import ConsoleRules
from engine.console.templates import ConsoleTemplates
from engine.customers.service import CustomerService
from engine.errors import NotFound, Unauthorized
from engine.history.service import HistoryService
from engine.inbound.links import Links
from engine.inbound.service import InboundService
from engine.ingest.events import EventFeedService
from engine.ingest.readings import FeedService
from engine.message_templates.service import TemplateService
from engine.models import Customer, Role, Tenant
from engine.notifications.service import NotificationService
from engine.platform.clock import Clock
from engine.platform.config import Settings
from engine.portal.access import PortalAccess
from engine.portal.preview import PreviewService
from engine.portal.views import PortalViews
from engine.preferences.service import PreferencesService
from engine.privacy.service import PrivacyService
from engine.processes.container import Services
from engine.processes.runtime import Runtime
from engine.tenants.service import TenantService
from engine.triggers.service import TriggerService


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_settings(request: Request) -> Settings:
    return get_runtime(request).settings


async def get_clock(request: Request) -> Clock:
    return get_runtime(request).clock


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]


_WORK: ContextVar[_RequestWork | None] = ContextVar("nudge_request_work", default=None)


class _RequestWork:
    """The request's unit of work, ended once: by the route's own trip (`finish_work`) or
    by the dependency's exit."""

    def __init__(self, work: AbstractContextManager[Services]) -> None:
        self._work = work
        self.ended = False

    def end(self, exc: BaseException | None) -> bool:
        if self.ended:
            return False
        self.ended = True
        if exc is None:
            return bool(self._work.__exit__(None, None, None))
        return bool(self._work.__exit__(type(exc), exc, exc.__traceback__))


def finish_work() -> None:
    """Commit the request's unit of work now, in the trip that ran the route."""
    work = _WORK.get()
    if work is not None:
        work.end(None)


async def request_unit_of_work(request: Request) -> AsyncIterator[Services]:
    """The request's services over one unit of work. Opened on the event loop (a session
    touches the database only at its first statement); committed, or rolled back, in a
    worker thread. Every dependency without I/O is `async` too: each sync one is a trip to
    the thread pool, and under load each trip waits for the GIL."""
    cm = get_runtime(request).services()
    services = cm.__enter__()
    work = _RequestWork(cm)
    token = _WORK.set(work)
    # Not limited by the thread pool's capacity: a unit of work that holds a connection must
    # always be able to give it back (FastAPI ends its own sync context managers so too).
    ending = anyio.CapacityLimiter(1)
    try:
        yield services
    except BaseException as exc:
        if work.ended:
            raise
        with anyio.CancelScope(shield=True):
            kept = await anyio.to_thread.run_sync(work.end, exc, limiter=ending)
        if not kept:
            raise
    else:
        if not work.ended:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(work.end, None, limiter=ending)
    finally:
        _WORK.reset(token)


# "function" scope commits when the route returns, before the answer goes out: a client that
# got 201 can rely on the row being there (the default would commit after sending).
_Work = Annotated[Services, Depends(request_unit_of_work, scope="function")]


async def tenant_service(work: _Work) -> TenantService:
    return work.tenants


async def authenticator(work: _Work) -> Authenticator:
    return work.auth


async def history_service(work: _Work) -> HistoryService:
    return work.history


async def consent_service(work: _Work) -> ConsentService:
    return work.consent


async def preferences_service(work: _Work) -> PreferencesService:
    return work.preferences


async def customer_service(work: _Work) -> CustomerService:
    return work.customers


async def privacy_service(work: _Work) -> PrivacyService:
    return work.privacy


async def catalog_service(work: _Work) -> CatalogService:
    return work.catalog


async def backtest_service(work: _Work) -> BacktestService:
    return work.backtest


async def trigger_service(work: _Work) -> TriggerService:
    return work.triggers


async def feed_service(work: _Work) -> FeedService:
    return work.feeds


async def event_feed_service(work: _Work) -> EventFeedService:
    return work.events


async def template_service(work: _Work) -> TemplateService:
    return work.templates


async def inbound_service(work: _Work) -> InboundService:
    return work.inbound


async def inbound_links(work: _Work) -> Links:
    return work.inbound.links


async def notification_service(work: _Work) -> NotificationService:
    return work.notifications


async def portal_access(work: _Work) -> PortalAccess:
    return work.portal_access


async def portal_views(work: _Work) -> PortalViews:
    return work.portal_views


async def preview_service(work: _Work) -> PreviewService:
    return work.preview


async def console_rules(work: _Work) -> ConsoleRules:
    return work.console_rules


async def console_templates(work: _Work) -> ConsoleTemplates:
    return work.console_templates


async def console_backtests(work: _Work) -> ConsoleBacktests:
    return work.console_backtests


async def console_deliveries(work: _Work) -> ConsoleDeliveries:
    return work.console_deliveries


TenantServiceDep = Annotated[TenantService, Depends(tenant_service)]
AuthenticatorDep = Annotated[Authenticator, Depends(authenticator)]
HistoryServiceDep = Annotated[HistoryService, Depends(history_service)]
ConsentServiceDep = Annotated[ConsentService, Depends(consent_service)]
PreferencesServiceDep = Annotated[PreferencesService, Depends(preferences_service)]
CustomerServiceDep = Annotated[CustomerService, Depends(customer_service)]
PrivacyServiceDep = Annotated[PrivacyService, Depends(privacy_service)]
CatalogServiceDep = Annotated[CatalogService, Depends(catalog_service)]
BacktestServiceDep = Annotated[BacktestService, Depends(backtest_service)]
TriggerServiceDep = Annotated[TriggerService, Depends(trigger_service)]
FeedServiceDep = Annotated[FeedService, Depends(feed_service)]
EventFeedServiceDep = Annotated[EventFeedService, Depends(event_feed_service)]
TemplateServiceDep = Annotated[TemplateService, Depends(template_service)]
InboundServiceDep = Annotated[InboundService, Depends(inbound_service)]
InboundLinksDep = Annotated[Links, Depends(inbound_links)]
NotificationServiceDep = Annotated[NotificationService, Depends(notification_service)]
PortalAccessDep = Annotated[PortalAccess, Depends(portal_access)]
PortalViewsDep = Annotated[PortalViews, Depends(portal_views)]
PreviewServiceDep = Annotated[PreviewService, Depends(preview_service)]
ConsoleRulesDep = Annotated[ConsoleRules, Depends(console_rules)]
ConsoleTemplatesDep = Annotated[ConsoleTemplates, Depends(console_templates)]
ConsoleBacktestsDep = Annotated[ConsoleBacktests, Depends(console_backtests)]
ConsoleDeliveriesDep = Annotated[ConsoleDeliveries, Depends(console_deliveries)]


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`nk_…`, roles admin, ops, feed) or a customer token (`nct.…`).",
)


READS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_caller(
    request: Request,
    auth: AuthenticatorDep,
    authorization: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> Caller:
    """The caller and their tenant or customer, in one trip to the thread pool and a read
    transaction of its own (`Authenticator.identify`). Failed attempts are counted per client
    and per key id; past the limit the answer is 429 with Retry-After: for a client whatever
    it sends, for a key id only to wrong secrets (its owner's right one still passes)."""
    credential = authorization.credentials.strip() if authorization else ""
    if not credential:
        raise Unauthorized("send Authorization: Bearer <key or token>")
    limiter = get_runtime(request).auth_failures
    names = attempt_names(request.client.host if request.client else None, key_id_of(credential))
    limiter.check(names)
    try:
        return auth.identify(credential, writes=request.method not in READS)
    except Unauthorized:
        limiter.failed(names)
        raise


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_principal(caller: CallerDep) -> Principal:
    return caller.principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def require_admin(principal: PrincipalDep) -> Principal:
    principal.require(Role.admin)
    return principal


def _tenant_of(caller: Caller) -> Tenant:
    if caller.tenant is None:  # a key's tenant is never deleted: not seen in practice
        raise NotFound(f"tenant {caller.principal.tenant_id} not found")
    return caller.tenant


async def require_business(caller: CallerDep) -> Tenant:
    caller.principal.require(Role.ops, Role.feed)
    return _tenant_of(caller)


async def require_ops(caller: CallerDep) -> Tenant:
    caller.principal.require(Role.ops)
    return _tenant_of(caller)


async def require_feed(caller: CallerDep) -> Tenant:
    caller.principal.require(Role.feed)
    return _tenant_of(caller)


async def current_customer(caller: CallerDep, request: Request) -> Customer:
    caller.principal.require("customer")
    if caller.customer is None:
        raise Unauthorized("this token's customer no longer exists")
    # Whose data a stored answer may hold (the principal's id: the customer's own attributes
    # may be expired, and reading them here would query on the event loop).
    request.state.customer_id = caller.principal.customer_id
    return caller.customer


def business_customer(
    customer_id: str,
    tenant: Annotated[Tenant, Depends(require_business)],
    customers: CustomerServiceDep,
) -> Customer:
    """The customer a business route names in its path (404 when not this tenant's)."""
    return customers.get(tenant.id, customer_id)


AdminDep = Annotated[Principal, Depends(require_admin)]
BusinessTenant = Annotated[Tenant, Depends(require_business)]
OpsTenant = Annotated[Tenant, Depends(require_ops)]
FeedTenant = Annotated[Tenant, Depends(require_feed)]
CurrentCustomer = Annotated[Customer, Depends(current_customer)]
BusinessCustomer = Annotated[Customer, Depends(business_customer)]
