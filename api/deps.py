"""Request dependencies: the unit of work, the caller, and the objects routes act on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engine.auth.service import Principal, key_id_of
from engine.errors import Unauthorized
from engine.models import Customer, Role, Tenant
from engine.processes.container import Services
from engine.processes.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_services(request: Request) -> Iterator[Services]:
    with get_runtime(request).services() as services:
        yield services


# "function" scope commits when the route returns, before the answer goes out: a client that
# got 201 can rely on the row being there (the default would commit after sending).
ServicesDep = Annotated[Services, Depends(get_services, scope="function")]


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`nk_…`, roles admin, ops, feed) or a customer token (`nct.…`).",
)


def get_principal(
    request: Request,
    services: ServicesDep,
    authorization: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> Principal:
    """The caller. Failed attempts are counted per client and per key id; past the limit
    the answer is 429 with Retry-After, whatever the credential."""
    credential = authorization.credentials.strip() if authorization else ""
    if not credential:
        raise Unauthorized("send Authorization: Bearer <key or token>")
    limiter = get_runtime(request).auth_failures
    names = [f"client:{request.client.host if request.client else '-'}"]
    names += [f"key:{key_id}"] if (key_id := key_id_of(credential)) else []
    limiter.check(names)
    try:
        return services.auth.authenticate(credential)
    except Unauthorized:
        limiter.failed(names)
        raise


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_admin(principal: PrincipalDep) -> Principal:
    principal.require(Role.admin)
    return principal


def _tenant_of(principal: Principal, services: Services) -> Tenant:
    assert principal.tenant_id is not None
    return services.tenants.get_tenant(principal.tenant_id)


def require_business(principal: PrincipalDep, services: ServicesDep) -> Tenant:
    principal.require(Role.ops, Role.feed)
    return _tenant_of(principal, services)


def require_ops(principal: PrincipalDep, services: ServicesDep) -> Tenant:
    principal.require(Role.ops)
    return _tenant_of(principal, services)


def require_feed(principal: PrincipalDep, services: ServicesDep) -> Tenant:
    principal.require(Role.feed)
    return _tenant_of(principal, services)


def current_customer(principal: PrincipalDep, services: ServicesDep, request: Request) -> Customer:
    principal.require("customer")
    assert principal.tenant_id is not None and principal.customer_id is not None
    customer = services.customers.repo.get(principal.tenant_id, principal.customer_id)
    if customer is None:
        raise Unauthorized("this token's customer no longer exists")
    request.state.customer_id = customer.id  # whose data a stored answer may hold
    return customer


AdminDep = Annotated[Principal, Depends(require_admin)]
BusinessTenant = Annotated[Tenant, Depends(require_business)]
OpsTenant = Annotated[Tenant, Depends(require_ops)]
FeedTenant = Annotated[Tenant, Depends(require_feed)]
CurrentCustomer = Annotated[Customer, Depends(current_customer)]
