"""A customer's cached plans: one plan, several, or none, each given back whole and in order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from engine.evaluation.cache import TenantEntries, plans_through


def _plan(customer: str, n: int) -> Any:
    return SimpleNamespace(trigger=SimpleNamespace(customer_id=customer), n=n)


def _named(plans: list[Any]) -> list[tuple[str, int]]:
    return [(p.trigger.customer_id, p.n) for p in plans]


def test_customers_with_one_several_or_no_plans_get_all_of_theirs_loaded_and_from_memory() -> None:
    entries = TenantEntries(epoch=1)
    loaded = [_plan("x", 1), _plan("y", 2), _plan("x", 3), _plan("x", 4), _plan("w", 5)]
    asked: list[list[str]] = []

    def load(ids: list[str]) -> list[Any]:
        asked.append(ids)
        return [p for p in loaded if p.trigger.customer_id in ids]

    first = plans_through(entries, ["y", "z", "x", "w"], load)
    again = plans_through(entries, ["x", "w", "z", "y"], load)

    assert _named(first) == [("y", 2), ("x", 1), ("x", 3), ("x", 4), ("w", 5)]
    assert _named(again) == [("x", 1), ("x", 3), ("x", 4), ("w", 5), ("y", 2)]
    assert asked == [["y", "z", "x", "w"]]  # the second time all of them from memory
    # Mixed: some from memory, one new; in the order asked for.
    mixed = plans_through(entries, ["v", "x", "y"], load)
    assert _named(mixed) == [("x", 1), ("x", 3), ("x", 4), ("y", 2)]
    assert asked[1:] == [["v"]]
