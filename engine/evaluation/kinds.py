"""Rule kinds woken by business events (``event``, ``schedule``; ``threshold`` is woken by
readings, in `engine.evaluation.threshold`). A kind decides on a snapshot, where its condition
runs, and applies the decision in the write transaction, where no condition runs. A new kind
is one module with a class like these and its entry in `occurrences.EVENT_KINDS`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from engine.catalog.compiled import CompiledRule
from engine.customers.refs import CustomerRef
from engine.evaluation.active import ActiveTrigger
from engine.evaluation.notices import Notices
from engine.models import Event


@dataclass(frozen=True)
class Verdict:
    """What a kind decided for one trigger and one event, at ``now``."""

    now: datetime
    holds: bool
    values: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None  # when to remind (schedule)


class EventKind(Protocol):
    name: ClassVar[str]

    def __init__(self, notices: Notices) -> None: ...

    def decide(
        self,
        trigger: ActiveTrigger,
        rule: CompiledRule,
        event: Event,
        customer: CustomerRef,
        now: datetime,
    ) -> Verdict:
        """Evaluate the condition for ``event`` as it will be stored; reads nothing."""
        ...

    def apply(
        self,
        trigger: ActiveTrigger,
        rule: CompiledRule,
        event: Event,
        customer: CustomerRef,
        verdict: Verdict,
    ) -> int:
        """Write what ``verdict`` means (notifications made, moved or cancelled); decisions
        made. Runs no condition."""
        ...
