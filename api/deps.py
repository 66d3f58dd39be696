"""Request dependencies: the unit of work, the caller, and the one service a route calls.

A request is one unit of work: `request_unit_of_work` opens it and commits it when the route
returns.
Routes never see it; each declares the service it calls (`CustomerServiceDep`, ...), built
over the request's session by `engine.processes.container` and shared within the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.auth.limits import attempt_names
from engine.auth.service import Authenticator, Principal, key_id_of
from engine.catalog.backtest import BacktestService
from engine.catalog.service import CatalogService
from engine.consent.service import ConsentService
from engine.console.backtests import ConsoleBacktests
from engine.console.deliveries import ConsoleDeliveries
from engine.console.rules import ConsoleRules
from engine.console.templates import ConsoleTemplates
from engine.customers.service import CustomerService
from engine.errors import Unauthorized
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


def get_settings(request: Request) -> Settings:
    return get_runtime(request).settings


def get_clock(request: Request) -> Clock:
    return get_runtime(request).clock


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]


def request_unit_of_work(request: Request) -> Iterator[Services]:
    with get_runtime(request).services() as services:
        yield services


# "function" scope commits when the route returns, before the answer goes out: a client that
# got 201 can rely on the row being there (the default would commit after sending).
_Work = Annotated[Services, Depends(request_unit_of_work, scope="function")]


def tenant_service(work: _Work) -> TenantService:
    return work.tenants


def authenticator(work: _Work) -> Authenticator:
    return work.auth


def history_service(work: _Work) -> HistoryService:
    return work.history


def consent_service(work: _Work) -> ConsentService:
    return work.consent


def preferences_service(work: _Work) -> PreferencesService:
    return work.preferences


def customer_service(work: _Work) -> CustomerService:
    return work.customers


def privacy_service(work: _Work) -> PrivacyService:
    return work.privacy


def catalog_service(work: _Work) -> CatalogService:
    return work.catalog


def backtest_service(work: _Work) -> BacktestService:
    return work.backtest


def trigger_service(work: _Work) -> TriggerService:
    return work.triggers


def feed_service(work: _Work) -> FeedService:
    return work.feeds


def event_feed_service(work: _Work) -> EventFeedService:
    return work.events


def template_service(work: _Work) -> TemplateService:
    return work.templates


def inbound_service(work: _Work) -> InboundService:
    return work.inbound


def inbound_links(work: _Work) -> Links:
    return work.inbound.links


def notification_service(work: _Work) -> NotificationService:
    return work.notifications


def portal_access(work: _Work) -> PortalAccess:
    return work.portal_access


def portal_views(work: _Work) -> PortalViews:
    return work.portal_views


def preview_service(work: _Work) -> PreviewService:
    return work.preview


def console_rules(work: _Work) -> ConsoleRules:
    return work.console_rules


def console_templates(work: _Work) -> ConsoleTemplates:
    return work.console_templates


def console_backtests(work: _Work) -> ConsoleBacktests:
    return work.console_backtests


def console_deliveries(work: _Work) -> ConsoleDeliveries:
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


def get_principal(
    request: Request,
    auth: AuthenticatorDep,
    authorization: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> Principal:
    """The caller. Failed attempts are counted per client and per key id; past the limit
    the answer is 429 with Retry-After: for a client whatever it sends, for a key id only
    to wrong secrets (its owner's right one still passes)."""
    credential = authorization.credentials.strip() if authorization else ""
    if not credential:
        raise Unauthorized("send Authorization: Bearer <key or token>")
    limiter = get_runtime(request).auth_failures
    names = attempt_names(request.client.host if request.client else None, key_id_of(credential))
    limiter.check(names)
    try:
        return auth.authenticate(credential)
    except Unauthorized:
        limiter.failed(names)
        raise


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: PrincipalDep) -> Principal:
    principal.require(Role.admin)
    return principal


def _tenant_of(principal: Principal, tenants: TenantService) -> Tenant:
    assert principal.tenant_id is not None
    return tenants.get_tenant(principal.tenant_id)


def require_business(principal: PrincipalDep, tenants: TenantServiceDep) -> Tenant:
    principal.require(Role.ops, Role.feed)
    return _tenant_of(principal, tenants)


def require_ops(principal: PrincipalDep, tenants: TenantServiceDep) -> Tenant:
    principal.require(Role.ops)
    return _tenant_of(principal, tenants)


def require_feed(principal: PrincipalDep, tenants: TenantServiceDep) -> Tenant:
    principal.require(Role.feed)
    return _tenant_of(principal, tenants)


def current_customer(
    principal: PrincipalDep, customers: CustomerServiceDep, request: Request
) -> Customer:
    principal.require("customer")
    assert principal.tenant_id is not None and principal.customer_id is not None
    customer = customers.find(principal.tenant_id, principal.customer_id)
    if customer is None:
        raise Unauthorized("this token's customer no longer exists")
    request.state.customer_id = customer.id  # whose data a stored answer may hold
    return customer


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
