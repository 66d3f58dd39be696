"""Reading and changing preferences; every change goes to the history.

The stored row holds only what the customer set; the defaults (channel order, voice calls
not between 21:00 and 08:00) fill in everything else when the preferences are read, so a
change to one channel never removes another channel's default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.history.service import HistoryService
from engine.models import HistoryKind, Preferences
from engine.platform.clock import Clock
from engine.preferences.repository import PreferencesRepository
from engine.preferences.schemas import (
    DEFAULT_CHANNEL_ORDER,
    DEFAULT_QUIET_HOURS,
    PreferencesPublic,
    PreferencesUpdate,
)

_PER_CHANNEL = ("quiet_hours", "frequency_caps")


def _own(row: Preferences | None) -> dict[str, Any]:
    """The customer's own settings, as stored (JSON values)."""
    if row is None:
        return {
            "channel_order": None,
            "quiet_hours": {},
            "frequency_caps": {},
            "urgent_override": None,
            "paused_until": None,
        }
    return {
        "channel_order": row.channel_order or None,
        "quiet_hours": dict(row.quiet_hours),
        "frequency_caps": dict(row.frequency_caps),
        "urgent_override": row.urgent_override,
        "paused_until": row.paused_until.isoformat() if row.paused_until else None,
    }


def public_preferences(row: Preferences | None) -> PreferencesPublic:
    """The preferences in force: the customer's own settings over the defaults."""
    own = _own(row)
    defaults = {
        k.value: [p.model_dump(mode="json") for p in v] for k, v in DEFAULT_QUIET_HOURS.items()
    }
    quiet = {**defaults, **own["quiet_hours"]}
    return PreferencesPublic.model_validate(
        {
            "channel_order": own["channel_order"] or DEFAULT_CHANNEL_ORDER,
            "quiet_hours": quiet,
            "quiet_hours_origin": {
                channel: "customer" if channel in own["quiet_hours"] else "default"
                for channel in quiet
            },
            "frequency_caps": own["frequency_caps"],
            "urgent_override": bool(own["urgent_override"]),
            "paused_until": own["paused_until"],
            "updated_at": row.updated_at if row is not None else None,
        }
    )


def merge(own: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7396 over the stored settings: per channel for quiet hours and caps; ``None``
    removes a setting (its default comes back)."""
    merged = {**own, **{k: v for k, v in patch.items() if k not in _PER_CHANNEL}}
    for name in _PER_CHANNEL:
        if name not in patch:
            continue
        if patch[name] is None:
            merged[name] = {}
            continue
        channels = dict(own[name])
        for channel, value in patch[name].items():
            if value is None:
                channels.pop(channel, None)
            else:
                channels[channel] = value
        merged[name] = channels
    return merged


class PreferencesService:
    def __init__(self, repo: PreferencesRepository, history: HistoryService, clock: Clock) -> None:
        self._repo = repo
        self.history = history
        self.clock = clock

    def get(self, customer_id: str) -> PreferencesPublic:
        return public_preferences(self._repo.get(customer_id))

    def forget(self, customer_id: str) -> None:
        """Erasure: the customer's settings go; what is left are the defaults."""
        self._repo.delete_for_customer(customer_id)

    def update(
        self, tenant_id: str, customer_id: str, change: PreferencesUpdate
    ) -> PreferencesPublic:
        """Merge ``change`` into the customer's settings (RFC 7396), atomically: concurrent
        changes of different settings both stay."""
        self._repo.lock_customer(customer_id)
        row = self._repo.get(customer_id)
        dumped = change.model_dump(mode="json")
        patch = {name: dumped[name] for name in change.model_fields_set}
        own = _own(row)
        merged = merge(own, patch)
        changed = sorted(k for k in merged if merged[k] != own[k])
        if not changed:
            return public_preferences(row)
        before = public_preferences(row).model_dump(mode="json")
        now = self.clock.now()
        if row is None:
            row = Preferences(customer_id=customer_id, tenant_id=tenant_id, updated_at=now)
        row.channel_order = merged["channel_order"] or []
        row.quiet_hours, row.frequency_caps = merged["quiet_hours"], merged["frequency_caps"]
        row.urgent_override = bool(merged["urgent_override"])
        paused = merged["paused_until"]
        row.paused_until = datetime.fromisoformat(paused) if paused else None
        row.updated_at = now
        self._repo.save(row)
        after = public_preferences(row).model_dump(mode="json")
        self.history.record(
            tenant_id,
            customer_id,
            HistoryKind.preference,
            "preferences changed: " + ", ".join(changed),
            {
                "changed": {k: after[k] for k in changed},
                "previous": {k: before[k] for k in changed},
                "patch": patch,
            },
        )
        return public_preferences(row)
