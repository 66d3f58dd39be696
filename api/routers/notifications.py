"""Operations staff watch decisions and deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import OpsTenant, ServicesDep
from engine.models import NotificationStatus
from engine.notifications.schemas import NotificationPublic
from engine.platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, next_cursor

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.get("")
def list_notifications(
    tenant: OpsTenant,
    services: ServicesDep,
    status: NotificationStatus | None = None,
    customer: Annotated[str | None, Query(description="customer id")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[NotificationPublic]:
    """Notifications, oldest first, with their delivery attempts."""
    rows = services.notification_repo.page(
        tenant.id, after_id=decode_cursor(cursor), limit=limit, status=status, customer_id=customer
    )
    attempts = services.notification_repo.attempts([r.id for r in rows])
    defaults = {
        customer_id: services.preferences.get(customer_id).channel_order
        for customer_id in {r.customer_id for r in rows if not r.channel_order}
    }
    items = [
        NotificationPublic.of(
            row,
            [a for a in attempts if a.notification_id == row.id],
            defaults.get(row.customer_id, ()),
        )
        for row in rows
    ]
    return Page(items=items, next_cursor=next_cursor([r.id for r in rows], limit))
