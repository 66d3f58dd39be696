"""History entries in the page's language: the customer's own changes described from their
data; what the engine and providers recorded keeps its summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.history.schemas import HistoryEntryPublic

Say = Callable[..., str]
SETTINGS = ("channel_order", "quiet_hours", "frequency_caps", "urgent_override", "paused_until")
PROFILE = ("name", "locale", "timezone", "email", "phone", "external_id", "attributes")


def describe(entry: HistoryEntryPublic, say: Say, topics: Mapping[str, str]) -> str:
    kind, data = entry.kind.value, entry.data
    describer = _DESCRIBERS.get(kind)
    found = describer(entry.summary, data, say, topics) if describer else None
    return found or entry.summary


def _consent(_: str, data: dict[str, Any], say: Say, topics: Mapping[str, str]) -> str | None:
    if "channel" not in data or "granted" not in data:
        return None
    topic = str(data.get("topic") or "*")
    name = say("channels.all_topics") if topic == "*" else topics.get(topic, topic)
    channel = say(f"channel.{data['channel']}")
    key = "h.consent.granted" if data["granted"] else "h.consent.revoked"
    return say(key, channel=channel, topic=name)


def _preference(_: str, data: dict[str, Any], say: Say, __: Mapping[str, str]) -> str | None:
    changed = [name for name in SETTINGS if name in (data.get("changed") or {})]
    if not changed:
        return None
    return say("h.settings", what=", ".join(say(f"h.setting.{name}") for name in changed))


def _profile(_: str, data: dict[str, Any], say: Say, __: Mapping[str, str]) -> str | None:
    if data.get("event") == "signed in":
        return say("h.signed_in")
    changed = [name for name in PROFILE if name in (data.get("changed") or [])]
    if not changed:
        return None
    return say("h.profile", what=", ".join(say(f"h.profile.{name}") for name in changed))


def _trigger(summary: str, _: dict[str, Any], say: Say, __: Mapping[str, str]) -> str | None:
    for ending, key in (("created", "h.alert.created"), ("changed", "h.alert.changed")):
        if summary.startswith(f"trigger {ending}") or summary.endswith(ending):
            return say(key)
    return say("h.alert.deleted") if summary.endswith("deleted") else None


_DESCRIBERS = {
    "consent": _consent,
    "preference": _preference,
    "profile": _profile,
    "trigger": _trigger,
}
