"""The one rule that decides consent, from a customer's stored consent entries.

Each entry names a channel and a topic (or ``*`` for every topic) and carries a revision
that grows with every change the customer's consents see. For a channel and topic, the
later of the topic's own entry and the channel's all-topics entry decides:

- a revocation of ``*`` covers every topic granted before it, by anyone;
- a later grant of one topic re-enables that topic only;
- a later grant of ``*`` covers every topic revoked before it;
- no entry means no consent.

A grant that the business records after a customer's revocation would override the
customer's word: it needs evidence of where the customer gave it (see ``overridden_by``).
Pure: plain values in and out, used alike by the consent grid, the export and every send.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

ALL_TOPICS = "*"
CUSTOMER = "customer"
BUSINESS = "business"


class ConsentEntry(NamedTuple):
    """One stored consent, as resolution needs it."""

    channel: str
    topic: str
    granted: bool
    revision: int
    actor: str = CUSTOMER


def deciding(entries: Iterable[ConsentEntry], channel: str, topic: str) -> ConsentEntry | None:
    """The entry that decides whether ``channel`` may carry ``topic``; None when none does."""
    found: ConsentEntry | None = None
    for entry in entries:
        if entry.channel != channel or entry.topic not in (topic, ALL_TOPICS):
            continue
        if found is None or _later(entry, found):
            found = entry
    return found


def _later(entry: ConsentEntry, other: ConsentEntry) -> bool:
    # Revisions are distinct per customer; on a tie (entries written before revisions
    # existed) the topic's own entry is the more specific word.
    if entry.revision != other.revision:
        return entry.revision > other.revision
    return entry.topic != ALL_TOPICS and other.topic == ALL_TOPICS


def is_granted(entries: Iterable[ConsentEntry], channel: str, topic: str) -> bool:
    """Whether ``channel`` may carry a message about ``topic``."""
    entry = deciding(entries, channel, topic)
    return entry is not None and entry.granted


def overridden_by(entries: Sequence[ConsentEntry], channel: str, topic: str) -> list[ConsentEntry]:
    """The customer's revocations that a grant of ``channel``/``topic`` would override.

    A grant of one topic overrides the revocation deciding that topic now; a grant of ``*``
    overrides every revocation that decides any topic of the channel now."""
    topics = {e.topic for e in entries if e.channel == channel} if topic == ALL_TOPICS else set()
    topics.add(topic)
    found: list[ConsentEntry] = []
    for name in sorted(topics):
        entry = deciding(entries, channel, name)
        if (
            entry is not None
            and not entry.granted
            and entry.actor == CUSTOMER
            and entry not in found
        ):
            found.append(entry)
    return found
