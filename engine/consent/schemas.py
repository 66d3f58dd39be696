"""Request and response shapes for consent."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from engine.models import ChannelKind
from engine.platform.validation import Flag, RequestModel

if TYPE_CHECKING:
    from engine.consent.service import ConsentCell


class ConsentChange(RequestModel):
    channel: ChannelKind
    topic: str = Field(default="*", min_length=1, max_length=100, pattern=r"^(\*|[a-z0-9_.-]+)$")
    granted: Flag


class BusinessConsentChange(ConsentChange):
    """A consent the business records. A grant after the customer's revocation must name
    where the customer gave it (``source``: a signed form, a call …)."""

    source: str | None = Field(default=None, min_length=3, max_length=200)


class ConsentPublic(BaseModel):
    """One stored consent, with its provenance: who (``actor``), through what (``source``)
    and, for a business's grant, where the customer gave it (``evidence``)."""

    model_config = ConfigDict(from_attributes=True)

    channel: str
    topic: str
    granted: bool
    source: str
    actor: str
    evidence: str | None
    changed_at: datetime


class ConsentCellPublic(BaseModel):
    """Whether ``channel`` may carry ``topic`` now, and the stored consent deciding it."""

    channel: str
    topic: str
    granted: bool
    decided_by: ConsentPublic | None


def cell_public(cell: ConsentCell) -> ConsentCellPublic:
    decider = cell.decided_by
    return ConsentCellPublic(
        channel=cell.channel,
        topic=cell.topic,
        granted=cell.granted,
        decided_by=ConsentPublic.model_validate(decider) if decider is not None else None,
    )
