"""What evaluation and ingest need of a customer: a plain value, not an ORM object."""

from __future__ import annotations

from typing import Any

import msgspec

from engine.models import Customer


class CustomerRef(msgspec.Struct, frozen=True, gc=False):
    """What evaluation needs of a customer. Kept in the ingest cache, one per customer, for
    as long as the tenant's configuration stays the same: never part of a reference cycle
    (plain values and decoded JSON), so the garbage collector need not walk it."""

    id: str
    tenant_id: str
    timezone: str
    locale: str
    attributes: dict[str, Any]

    @classmethod
    def of(cls, c: Customer) -> CustomerRef:
        return cls(c.id, c.tenant_id, c.timezone, c.locale, c.attributes)
