"""What evaluation and ingest need of a customer: a plain value, not an ORM object."""

from __future__ import annotations

from typing import Any, NamedTuple

from engine.models import Customer


class CustomerRef(NamedTuple):
    """What evaluation needs of a customer."""

    id: str
    tenant_id: str
    timezone: str
    locale: str
    attributes: dict[str, Any]

    @classmethod
    def of(cls, c: Customer) -> CustomerRef:
        return cls(c.id, c.tenant_id, c.timezone, c.locale, c.attributes)
