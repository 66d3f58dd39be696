"""Operations staff watch decisions and deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import NotificationServiceDep, OpsTenant
from api.params import Cursor
from api.routing import WorkRoute
from engine.models import NotificationStatus
from engine.notifications.schemas import NotificationPublic
from engine.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(prefix="/v1/notifications", tags=["notifications"], route_class=WorkRoute)


@router.get("")
def list_notifications(
    tenant: OpsTenant,
    notifications: NotificationServiceDep,
    status: NotificationStatus | None = None,
    customer: Annotated[str | None, Query(description="customer id")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[NotificationPublic]:
    """Notifications, oldest first, with their delivery attempts."""
    return notifications.page(tenant.id, cursor, limit, status, customer)
