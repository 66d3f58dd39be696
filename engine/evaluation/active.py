"""A trigger as evaluation sees it: plain values, read without loading ORM objects."""

from __future__ import annotations

from typing import Any, NamedTuple


class ActiveTrigger(NamedTuple):
    """What evaluation needs of a trigger, without loading ORM objects."""

    id: str
    tenant_id: str
    customer_id: str
    rule_version_id: str
    version: int
    definition: dict[str, Any]
    params: dict[str, Any]
    channels: list[str] | None
