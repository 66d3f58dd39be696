"""Operations staff author rules: drafts, publish, retire, back-test."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from api.deps import BacktestServiceDep, CatalogServiceDep, OpsTenant
from api.routing import WorkRoute
from engine.catalog.schemas import BacktestRequest, RuleCreate, RulePublic, RuleUpdate

router = APIRouter(prefix="/v1/rules", tags=["rules"], route_class=WorkRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_rule(tenant: OpsTenant, catalog: CatalogServiceDep, body: RuleCreate) -> RulePublic:
    """Create a draft; its condition is compiled and type-checked now (422 with position)."""
    return catalog.public(catalog.create(tenant.id, body.model_dump(exclude_unset=True)))


@router.get("")
def list_rules(tenant: OpsTenant, catalog: CatalogServiceDep) -> list[RulePublic]:
    return [catalog.public(r) for r in catalog.all(tenant.id)]


@router.get("/{key}")
def get_rule(key: str, tenant: OpsTenant, catalog: CatalogServiceDep) -> RulePublic:
    """The rule with its draft and every published version."""
    return catalog.public(catalog.get(tenant.id, key))


@router.patch("/{key}")
def update_rule(
    key: str, tenant: OpsTenant, catalog: CatalogServiceDep, body: RuleUpdate
) -> RulePublic:
    """Change the draft; published versions never change."""
    return catalog.public(catalog.update(tenant.id, key, body.model_dump(exclude_unset=True)))


@router.post("/{key}/publish")
def publish_rule(key: str, tenant: OpsTenant, catalog: CatalogServiceDep) -> RulePublic:
    """Publish the draft as a new immutable version. Existing triggers keep their version."""
    return catalog.public(catalog.publish(tenant.id, key))


@router.post("/{key}/retire")
def retire_rule(key: str, tenant: OpsTenant, catalog: CatalogServiceDep) -> RulePublic:
    """Stop offering the rule; its triggers stop firing."""
    return catalog.public(catalog.retire(tenant.id, key))


@router.post("/{key}/backtest")
def backtest_rule(
    key: str, body: BacktestRequest, tenant: OpsTenant, backtest: BacktestServiceDep
) -> dict[str, Any]:
    """Every window in which the rule (draft, or ``version``) would have fired over a
    customer's stored readings or posted ones. Stores and sends nothing."""
    return backtest.run(tenant, key, body)
