"""Granting, revoking and checking consent; every change goes to the history."""

from __future__ import annotations

from engine.clock import Clock
from engine.consent.repository import ConsentRepository
from engine.history.service import HistoryService
from engine.ids import new_id
from engine.models import ALL_TOPICS, Consent, HistoryKind


class ConsentService:
    def __init__(self, repo: ConsentRepository, history: HistoryService, clock: Clock) -> None:
        self.repo = repo
        self.history = history
        self.clock = clock

    def list(self, customer_id: str) -> list[Consent]:
        return self.repo.for_customer(customer_id)

    def set(
        self, tenant_id: str, customer_id: str, channel: str, topic: str, granted: bool, source: str
    ) -> Consent:
        """Record a grant or revocation; an unchanged state writes nothing."""
        row = self.repo.find(customer_id, channel, topic)
        now = self.clock.now()
        if row is not None and row.granted == granted:
            return row
        if row is None:
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
            row.granted, row.source, row.changed_at = granted, source, now
        self.repo.add(row)
        verb = "granted" if granted else "revoked"
        scope = "all topics" if topic == ALL_TOPICS else f"topic {topic}"
        self.history.record(
            tenant_id,
            customer_id,
            HistoryKind.consent,
            f"{channel} consent {verb} for {scope}",
            {"channel": channel, "topic": topic, "granted": granted, "source": source},
            channel=channel,
        )
        return row

    def is_granted(self, customer_id: str, channel: str, topic: str) -> bool:
        """A topic's own entry wins over the all-topics entry; no entry means no consent."""
        specific = self.repo.find(customer_id, channel, topic)
        if specific is not None:
            return specific.granted
        general = self.repo.find(customer_id, channel, ALL_TOPICS)
        return general is not None and general.granted
