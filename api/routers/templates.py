"""Operations staff author message templates: the tenant's own over the shipped defaults."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import OpsTenant, TemplateServiceDep
from api.routing import WorkRoute
from engine.message_templates.schemas import (
    PreviewPublic,
    PreviewRequest,
    TemplateCreate,
    TemplateKeyPublic,
    TemplatePublic,
    TemplateUpdate,
)

router = APIRouter(prefix="/v1/templates", tags=["templates"], route_class=WorkRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_template(
    body: TemplateCreate, tenant: OpsTenant, templates: TemplateServiceDep
) -> TemplatePublic:
    """Store a template for a key, channel and locale. 422 if a part does not parse, uses an
    unknown variable or leaves the sandbox; 409 if that variant exists (PATCH it)."""
    return templates.create(tenant, body)


@router.get("")
def list_templates(tenant: OpsTenant, templates: TemplateServiceDep) -> list[TemplatePublic]:
    """The tenant's templates and the defaults it does not override (``source``)."""
    return templates.all(tenant)


@router.get("/{key}")
def get_template(key: str, tenant: OpsTenant, templates: TemplateServiceDep) -> TemplateKeyPublic:
    """Every channel and locale variant of a template key."""
    return templates.get(tenant, key)


@router.patch("/{key}")
def update_template(
    key: str, body: TemplateUpdate, tenant: OpsTenant, templates: TemplateServiceDep
) -> TemplatePublic:
    """Replace the given parts of the tenant's template for ``channel`` and ``locale``."""
    return templates.update(tenant, key, body)


@router.post("/{key}/preview")
def preview_template(
    key: str, body: PreviewRequest, tenant: OpsTenant, templates: TemplateServiceDep
) -> PreviewPublic:
    """Render the template a customer in ``locale`` would get, with sample values merged with
    ``context``. Stores and sends nothing."""
    return templates.preview(tenant, key, body)
