"""Plans of a batch's customers: cached ones taken from memory, the others loaded in one call,
all of them in the order the customers are named."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from engine.evaluation.cache import TenantEntries, plans_through


def _plan(customer: str, n: int) -> Any:
    return SimpleNamespace(trigger=SimpleNamespace(customer_id=customer), n=n)


def test_cached_and_loaded_plans_come_in_the_customers_order() -> None:
    entries = TenantEntries(epoch=1)
    entries.plans = {"a": [_plan("a", 1)], "c": [_plan("c", 3), _plan("c", 4)], "e": []}
    asked: list[list[str]] = []

    def load(ids: list[str]) -> list[Any]:
        asked.append(ids)
        return [_plan(c, 10 + i) for i, c in enumerate(ids) if c != "f"]

    found = plans_through(entries, ["a", "b", "c", "a", "d", "e", "f"], load)

    assert [(p.trigger.customer_id, p.n) for p in found] == [
        ("a", 1),
        ("b", 10),
        ("c", 3),
        ("c", 4),
        ("d", 11),
    ]
    assert asked == [["b", "d", "f"]]
    assert entries.plans["f"] == []  # known to have none: not asked for again
    again = plans_through(entries, ["c", "f", "b"], load)
    assert [(p.trigger.customer_id, p.n) for p in again] == [("c", 3), ("c", 4), ("b", 10)]
    assert len(asked) == 1
