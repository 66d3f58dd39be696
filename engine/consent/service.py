"""Granting, revoking and checking consent by the one rule of `engine.consent.resolution`;
every change goes to the history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.consent.repository import ConsentRepository
from engine.consent.resolution import (
    BUSINESS,
    CUSTOMER,
    ConsentEntry,
    deciding,
    is_granted,
    overridden_by,
)
from engine.errors import Conflict
from engine.history.service import HistoryService
from engine.models import ALL_TOPICS, ChannelKind, Consent, HistoryKind
from engine.platform.clock import Clock
from engine.platform.ids import new_id


def entry(row: Consent) -> ConsentEntry:
    return ConsentEntry(row.channel, row.topic, row.granted, row.revision, row.actor)


@dataclass(frozen=True)
class ConsentCell:
    """Whether one channel may carry one topic, and the stored consent that decides it."""

    channel: str
    topic: str
    granted: bool
    decided_by: Consent | None


class ConsentService:
    def __init__(self, repo: ConsentRepository, history: HistoryService, clock: Clock) -> None:
        self._repo = repo
        self.history = history
        self.clock = clock

    def list(self, customer_id: str) -> list[Consent]:
        return self._repo.for_customer(customer_id)

    def set(
        self,
        tenant_id: str,
        customer_id: str,
        channel: str,
        topic: str,
        granted: bool,
        source: str,
        actor: str = CUSTOMER,
        evidence: str | None = None,
    ) -> Consent:
        """Record a grant or revocation as the latest word on ``channel``/``topic``.

        A business's grant that would override the customer's revocation needs
        ``evidence`` of where the customer gave it; without, it is refused (409) and names
        the revocation. A change that would not alter any decision writes nothing."""
        self._repo.lock_customer(customer_id)
        rows = self._repo.for_customer(customer_id)
        current = next((r for r in rows if r.channel == channel and r.topic == topic), None)
        if current is not None and current.granted == granted and _is_latest(current, rows):
            return current
        if actor == BUSINESS and granted:
            _check_override(rows, channel, topic, evidence)
        revision, now = max((r.revision for r in rows), default=0) + 1, self.clock.now()
        if current is None:
            row = Consent(
                id=new_id("cns"),
                tenant_id=tenant_id,
                customer_id=customer_id,
                channel=channel,
                topic=topic,
                granted=granted,
                source=source,
                changed_at=now,
            )
        else:
            row = current
            row.granted, row.source, row.changed_at = granted, source, now
        row.actor, row.evidence, row.revision = actor, evidence, revision
        self._repo.add(row)
        self._record(row)
        return row

    def set_many(
        self,
        tenant_id: str,
        customer_id: str,
        changes: Iterable[tuple[str, str, bool]],
        source: str,
        actor: str,
    ) -> None:
        """Several changes given together (e.g. at sign-up): all-topics entries first, so
        that a topic named beside them is the more specific, later word."""
        for channel, topic, granted in sorted(changes, key=lambda c: c[1] != ALL_TOPICS):
            self.set(tenant_id, customer_id, channel, topic, granted, source, actor)

    def forget(self, customer_id: str) -> None:
        """Erasure: the customer's consents go with their data."""
        self._repo.delete_for_customer(customer_id)

    def is_granted(self, customer_id: str, channel: str, topic: str) -> bool:
        return is_granted(map(entry, self._repo.for_customer(customer_id)), channel, topic)

    def grid(self, tenant_id: str, customer_id: str) -> Sequence[ConsentCell]:
        """Every channel × topic (all topics, those of the tenant's published rules and any
        the customer has an entry for), each with the consent that decides it."""
        rows = self._repo.for_customer(customer_id)
        topics = self._repo.published_topics(tenant_id)
        by_entry = {entry(r): r for r in rows}
        names = sorted({*topics, *(r.topic for r in rows)} - {ALL_TOPICS})
        cells = []
        for channel in ChannelKind:
            for topic in [ALL_TOPICS, *names]:
                decider = deciding(by_entry, channel.value, topic)
                cells.append(
                    ConsentCell(
                        channel.value,
                        topic,
                        decider is not None and decider.granted,
                        by_entry[decider] if decider is not None else None,
                    )
                )
        return cells

    def _record(self, row: Consent) -> None:
        verb = "granted" if row.granted else "revoked"
        scope = "all topics" if row.topic == ALL_TOPICS else f"topic {row.topic}"
        summary = f"{row.channel} consent {verb} for {scope}"
        if row.actor == BUSINESS:
            summary += " by the business" + (f" ({row.evidence})" if row.evidence else "")
        self.history.record(
            row.tenant_id,
            row.customer_id,
            HistoryKind.consent,
            summary,
            {
                "channel": row.channel,
                "topic": row.topic,
                "granted": row.granted,
                "source": row.source,
                "actor": row.actor,
                "evidence": row.evidence,
            },
            channel=row.channel,
        )


def _is_latest(row: Consent, rows: Sequence[Consent]) -> bool:
    """Whether no later entry could be overruled by saying ``row`` again: for a topic, no
    later all-topics entry; for all topics, no later entry on the channel at all."""
    wider = [
        r
        for r in rows
        if r.channel == row.channel
        and r is not row
        and (row.topic == ALL_TOPICS or r.topic == ALL_TOPICS)
    ]
    return all(r.revision < row.revision for r in wider)


def _check_override(
    rows: Sequence[Consent], channel: str, topic: str, evidence: str | None
) -> None:
    by_entry = {entry(r): r for r in rows}
    revoked = [by_entry[e] for e in overridden_by(list(by_entry), channel, topic)]
    if not revoked or evidence:
        return
    names = ", ".join(
        f"{r.channel}/{r.topic} revoked {r.changed_at.isoformat(timespec='seconds')} ({r.source})"
        for r in revoked
    )
    raise Conflict(
        f"the customer revoked this consent ({names}); a grant after it must name where the "
        "customer gave it (source)",
        extra={
            "revocations": [
                {
                    "channel": r.channel,
                    "topic": r.topic,
                    "source": r.source,
                    "changed_at": r.changed_at.isoformat(),
                }
                for r in revoked
            ]
        },
    )
