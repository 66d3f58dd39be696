"""Builds the portal's services over one unit of work."""

from __future__ import annotations

from engine.customers.repository import CustomerRepository
from engine.portal.access import PortalAccess
from engine.portal.preview import PreviewService
from engine.portal.repository import PortalRepository
from engine.portal.views import PortalViews
from engine.processes.container import Services
from engine.tenants.repository import TenantRepository


def portal_access(services: Services) -> PortalAccess:
    session = services.session
    return PortalAccess(
        PortalRepository(session),
        CustomerRepository(session),
        TenantRepository(session),
        services.consent,
        services.history,
        services.settings,
        services.clock,
    )


def portal_views(services: Services) -> PortalViews:
    return PortalViews(services.triggers, services.catalog, PortalRepository(services.session))


def preview_service(services: Services) -> PreviewService:
    return PreviewService(services.readings, PortalRepository(services.session), services.clock)
