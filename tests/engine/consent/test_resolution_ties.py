"""Consent entries written before revisions existed all carry the same revision: then the
topic's own entry is the more specific word, in whatever order the entries come."""

from __future__ import annotations

import pytest

from engine.consent.resolution import ALL_TOPICS, ConsentEntry, deciding, is_granted

TOPIC_REVOKED = ConsentEntry("sms", "energy", granted=False, revision=0)
ALL_GRANTED = ConsentEntry("sms", ALL_TOPICS, granted=True, revision=0)


@pytest.mark.parametrize(
    "entries", [[TOPIC_REVOKED, ALL_GRANTED], [ALL_GRANTED, TOPIC_REVOKED]], ids=["first", "last"]
)
def test_on_a_tie_the_topics_own_entry_decides(entries: list[ConsentEntry]) -> None:
    assert deciding(entries, "sms", "energy") == TOPIC_REVOKED
    assert not is_granted(entries, "sms", "energy")
    assert is_granted(entries, "sms", "billing")


def test_a_later_revision_wins_over_a_more_specific_entry() -> None:
    later = ConsentEntry("sms", ALL_TOPICS, granted=True, revision=1)
    assert deciding([TOPIC_REVOKED, later], "sms", "energy") == later
    assert deciding([later, TOPIC_REVOKED], "sms", "energy") == later
