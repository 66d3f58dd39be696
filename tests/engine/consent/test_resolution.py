"""The consent rule on plain values: the latest word on a channel's topic or on all its topics
decides, whoever said it; only the business needs evidence to override the customer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.consent.resolution import (
    ALL_TOPICS,
    BUSINESS,
    CUSTOMER,
    ConsentEntry,
    deciding,
    is_granted,
    overridden_by,
)

SMS, EMAIL = "sms", "email"


def test_no_entry_means_no_consent() -> None:
    assert not is_granted([], SMS, "energy")
    assert deciding([], SMS, "energy") is None


def test_a_revocation_of_all_topics_covers_every_topic_granted_before_it() -> None:
    entries = [
        ConsentEntry(EMAIL, ALL_TOPICS, True, 1, BUSINESS),
        ConsentEntry(SMS, "energy", True, 2, BUSINESS),
        ConsentEntry(SMS, ALL_TOPICS, False, 3, CUSTOMER),
    ]
    assert not is_granted(entries, SMS, "energy")
    assert not is_granted(entries, SMS, "billing")
    assert is_granted(entries, EMAIL, "energy")  # another channel is untouched
    assert deciding(entries, SMS, "energy") == entries[2]


def test_a_later_grant_of_one_topic_re_enables_that_topic_only() -> None:
    entries = [
        ConsentEntry(SMS, ALL_TOPICS, True, 1, BUSINESS),
        ConsentEntry(SMS, ALL_TOPICS, False, 2, CUSTOMER),
        ConsentEntry(SMS, "energy", True, 3, CUSTOMER),
    ]
    entries = [entries[1], entries[2]]  # one row per channel and topic is stored
    assert is_granted(entries, SMS, "energy")
    assert not is_granted(entries, SMS, "billing")


def test_a_later_grant_of_all_topics_covers_topics_revoked_before_it() -> None:
    entries = [
        ConsentEntry(SMS, "billing", False, 1, CUSTOMER),
        ConsentEntry(SMS, ALL_TOPICS, True, 2, CUSTOMER),
    ]
    assert is_granted(entries, SMS, "billing")


def test_on_equal_revisions_the_topic_is_the_more_specific_word() -> None:
    entries = [
        ConsentEntry(SMS, "billing", False, 0, BUSINESS),
        ConsentEntry(SMS, ALL_TOPICS, True, 0, BUSINESS),
    ]
    assert not is_granted(entries, SMS, "billing")
    assert is_granted(entries, SMS, "energy")
    assert not is_granted(list(reversed(entries)), SMS, "billing")


def test_a_business_grant_would_override_only_the_customers_deciding_revocations() -> None:
    stop_all = ConsentEntry(SMS, ALL_TOPICS, False, 3, CUSTOMER)
    entries = [ConsentEntry(SMS, "energy", True, 2, BUSINESS), stop_all]
    assert overridden_by(entries, SMS, "energy") == [stop_all]
    assert overridden_by(entries, SMS, ALL_TOPICS) == [stop_all]
    assert overridden_by(entries, EMAIL, ALL_TOPICS) == []

    regranted = [stop_all, ConsentEntry(SMS, "energy", True, 4, CUSTOMER)]
    assert overridden_by(regranted, SMS, "energy") == []  # the customer's own later word
    assert overridden_by(regranted, SMS, "billing") == [stop_all]

    business_revoked = [ConsentEntry(SMS, ALL_TOPICS, False, 1, BUSINESS)]
    assert overridden_by(business_revoked, SMS, "energy") == []


def test_a_grant_of_all_topics_would_override_a_revoked_topic_too() -> None:
    topic_revoked = ConsentEntry(SMS, "billing", False, 2, CUSTOMER)
    entries = [ConsentEntry(SMS, ALL_TOPICS, True, 1, BUSINESS), topic_revoked]
    assert overridden_by(entries, SMS, ALL_TOPICS) == [topic_revoked]
    assert overridden_by(entries, SMS, "energy") == []


_TOPICS = [ALL_TOPICS, "energy", "billing"]
_CHANGES = st.lists(
    st.tuples(st.sampled_from([SMS, EMAIL]), st.sampled_from(_TOPICS), st.booleans()),
    max_size=12,
)


def _store(changes: list[tuple[str, str, bool]]) -> list[ConsentEntry]:
    """What is stored after ``changes`` in order: one row per channel and topic, each change
    with the next revision."""
    rows: dict[tuple[str, str], ConsentEntry] = {}
    for revision, (channel, topic, granted) in enumerate(changes, start=1):
        rows[(channel, topic)] = ConsentEntry(channel, topic, granted, revision)
    return list(rows.values())


@given(_CHANGES, st.sampled_from([SMS, EMAIL]), st.sampled_from(["energy", "billing"]))
def test_the_latest_change_that_names_the_topic_or_all_topics_decides(
    changes: list[tuple[str, str, bool]], channel: str, topic: str
) -> None:
    relevant = [g for c, t, g in changes if c == channel and t in (topic, ALL_TOPICS)]
    expected = relevant[-1] if relevant else False
    assert is_granted(_store(changes), channel, topic) == expected
