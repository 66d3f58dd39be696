"""The directory of feed keys' tenants and allowances remembers each answer for a few seconds
(no query per batch), forgets a tenant when its allowance changes, and never keeps an answer
read before such a change."""

from __future__ import annotations

from engine.tenants.allowances import TTL_SECONDS, FeedAllowance, FeedAllowances, KeyTenant


class Table:
    """What the database would answer, and how often it was asked."""

    def __init__(self) -> None:
        self.rows = {"nk_a": KeyTenant("ten_a", None), "nk_b": KeyTenant("ten_b", 50)}
        self.asked = 0
        self.during: list[FeedAllowances] = []  # forget ten_a while a load is reading

    def load(self, key_id: str) -> KeyTenant | None:
        self.asked += 1
        found = self.rows.get(key_id)
        for directory in self.during:
            directory.forget("ten_a")
        return found


def test_answers_are_remembered_for_the_ttl_then_asked_again() -> None:
    now, table = [0.0], Table()
    directory = FeedAllowances(table.load, default=10, now=lambda: now[0])
    assert directory.cached("nk_a") is None
    assert directory.load("nk_a") == FeedAllowance("ten_a", 10)  # the platform default
    assert directory.load("nk_b") == FeedAllowance("ten_b", 50)  # its own
    now[0] = TTL_SECONDS - 0.1
    assert directory.cached("nk_a") == FeedAllowance("ten_a", 10)
    now[0] = TTL_SECONDS
    assert directory.cached("nk_a") is None
    assert table.asked == 2


def test_unknown_keys_count_on_their_own_at_the_platform_default() -> None:
    directory = FeedAllowances(Table().load, default=10)
    assert directory.load("nk_gone") == FeedAllowance("key:nk_gone", 10)


def test_a_changed_tenant_is_forgotten_and_a_load_that_raced_the_change_not_kept() -> None:
    table = Table()
    directory = FeedAllowances(table.load, default=10)
    directory.load("nk_a")
    directory.load("nk_b")
    directory.forget("ten_a")
    assert directory.cached("nk_a") is None
    assert directory.cached("nk_b") is not None  # another tenant's stays

    table.during.append(directory)  # the change commits while the load reads the old row
    directory.load("nk_a")
    assert directory.cached("nk_a") is None
