"""Reading and changing preferences; every change goes to the history."""

from __future__ import annotations

from typing import Any

from engine.clock import Clock
from engine.history.service import HistoryService
from engine.models import HistoryKind, Preferences
from engine.preferences.repository import PreferencesRepository
from engine.preferences.schemas import (
    DEFAULT_CHANNEL_ORDER,
    DEFAULT_QUIET_HOURS,
    PreferencesPublic,
    PreferencesUpdate,
)


def public_preferences(row: Preferences | None) -> PreferencesPublic:
    if row is None:
        return PreferencesPublic(
            channel_order=DEFAULT_CHANNEL_ORDER,
            quiet_hours=DEFAULT_QUIET_HOURS,
            frequency_caps={},
            urgent_override=False,
            updated_at=None,
        )
    return PreferencesPublic.model_validate(
        {
            "channel_order": row.channel_order,
            "quiet_hours": row.quiet_hours,
            "frequency_caps": row.frequency_caps,
            "urgent_override": row.urgent_override,
            "updated_at": row.updated_at,
        }
    )


class PreferencesService:
    def __init__(self, repo: PreferencesRepository, history: HistoryService, clock: Clock) -> None:
        self.repo = repo
        self.history = history
        self.clock = clock

    def get(self, customer_id: str) -> PreferencesPublic:
        return public_preferences(self.repo.get(customer_id))

    def update(
        self, tenant_id: str, customer_id: str, change: PreferencesUpdate
    ) -> PreferencesPublic:
        current = public_preferences(self.repo.get(customer_id)).model_dump(mode="json")
        dumped = change.model_dump(mode="json")
        updates = {k: dumped[k] for k in change.model_fields_set if dumped[k] is not None}
        changed = {k: v for k, v in updates.items() if current.get(k) != v}
        if not changed:
            return public_preferences(self.repo.get(customer_id))
        merged: dict[str, Any] = {**current, **changed}
        merged.pop("updated_at", None)
        row = self.repo.get(customer_id) or Preferences(
            customer_id=customer_id, tenant_id=tenant_id, updated_at=self.clock.now()
        )
        for name, value in merged.items():
            setattr(row, name, value)
        row.updated_at = self.clock.now()
        self.repo.save(row)
        self.history.record(
            tenant_id,
            customer_id,
            HistoryKind.preference,
            "preferences changed: " + ", ".join(sorted(changed)),
            {"changed": changed, "previous": {k: current.get(k) for k in changed}},
        )
        return public_preferences(row)
