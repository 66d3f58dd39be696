"""A batch whose customers and plans are all in memory is resolved in one pass
(`cached_batch`) to exactly what resolving it step by step gives: the customers by reference
and by id, the plans on the batch's metrics, the streams they watch by (customer, metric), and
whether each of these customers watches each of these metrics.
A batch naming any customer or plans not in memory is left to the step-by-step path."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.customers.refs import CustomerRef
from engine.evaluation.aggregation import watched_streams
from engine.evaluation.cache import (
    CachedStreams,
    TenantEntries,
    cached_batch,
    plans_through,
    refs_through,
)

METRICS = ["electricity", "gas", "water"]
KINDS = ["day", "month"]


def _plan(customer: str, metric: str, kind: str) -> Any:
    return SimpleNamespace(
        stream=(customer, metric, kind), trigger=SimpleNamespace(customer_id=customer)
    )


@st.composite
def tenants(draw: st.DrawFn) -> TenantEntries:
    """Cached customers (reference m<i>, id cus_<i>), each with none, one or several plans;
    a few customers' plans not cached."""
    entries = TenantEntries(epoch=1)
    for i in range(draw(st.integers(1, 8))):
        customer = f"cus_{i}"
        entries.refs[f"m{i}"] = CustomerRef(customer, "ten", "Europe/Berlin", "de-DE", {})
        if draw(st.booleans()) and i % 3 == 2:
            continue  # plans not cached
        streams = draw(
            st.lists(st.tuples(st.sampled_from(METRICS), st.sampled_from(KINDS)), max_size=3)
        )
        plans = [_plan(customer, m, k) for m, k in streams]
        entries.plans[customer] = plans[0] if len(plans) == 1 else plans
    return entries


def _refused(ids: list[str]) -> Any:
    raise AssertionError(f"loaded {ids}: everything asked for should be in memory")


@given(
    tenants(),
    st.lists(st.sampled_from([f"m{i}" for i in range(10)]), min_size=1, max_size=12),
    st.sets(st.sampled_from(METRICS), min_size=1),
)
def test_one_pass_resolves_a_cached_batch_as_the_steps_do(
    entries: TenantEntries, asked: list[str], metrics: set[str]
) -> None:
    refs = set(asked)
    cached = cached_batch(entries, refs, metrics)

    if not all(ref in entries.refs and entries.refs[ref].id in entries.plans for ref in refs):
        assert cached is None
        return
    assert cached is not None
    by_ref = refs_through(entries, refs, _refused)
    by_id = {c.id: c for c in by_ref.values()}
    plans = [p for p in plans_through(entries, set(by_id), _refused) if p.stream[1] in metrics]
    assert cached.by_ref == by_ref
    assert cached.by_id == by_id
    assert Counter(map(id, cached.plans)) == Counter(map(id, plans))
    assert cached.fed == watched_streams(p.stream for p in plans)
    # every reading of these customers on these metrics feeds a plan, or it is not claimed
    assert cached.feeds_all == all((c, m) in cached.fed for c in by_id for m in metrics)


@given(tenants())
def test_cached_streams_are_the_streams_every_cached_plan_watches(entries: TenantEntries) -> None:
    """What a warm batch feeds (`CachedStreams`) is `watched_streams` of every cached plan:
    the same pairs, each with the same streams, and no other pair."""
    plans = [p for own in entries.plans.values() for p in (own if isinstance(own, list) else [own])]
    expected = watched_streams(p.stream for p in plans)
    streams = CachedStreams(entries.plans)
    assert dict(streams) == expected
    for customer in [*entries.refs.values(), CustomerRef("cus_x", "ten", "UTC", "en", {})]:
        for metric in METRICS:
            pair = (customer.id, metric)
            assert (pair in streams) == (pair in expected)
