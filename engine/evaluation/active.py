"""A trigger as evaluation sees it: plain values, read without loading ORM objects."""

from __future__ import annotations

from typing import Any

import msgspec


class ActiveTrigger(msgspec.Struct, frozen=True, gc=False):
    """What evaluation needs of a trigger, without loading ORM objects. Kept in the ingest
    cache (`Plan`): never part of a reference cycle (plain values, decoded JSON), so the
    garbage collector need not walk it."""

    id: str
    tenant_id: str
    customer_id: str
    rule_version_id: str
    version: int
    definition: dict[str, Any]
    params: dict[str, Any]
    channels: list[str] | None
    # The parameters as the JSON text they were read from: triggers of one rule version with
    # the same text have the same parameters, so what depends only on them is worked out once
    # (`Plan.of`). None for a trigger not read in bulk.
    params_text: str | None = None
