"""Large batches store every reading once: new ones inserted, repeats counted as duplicates,
other values as corrections, whether the batch's rows take one insert statement or several."""

from __future__ import annotations

from sqlalchemy import text

from engine.processes.runtime import Runtime
from tests.fixtures.api import Api
from tests.fixtures.rules import berlin, count_rows, hourly, post_readings, subscribe


def _stored(runtime: Runtime, customer_id: str) -> dict[int, float]:
    with runtime.db.connect() as conn:
        rows = conn.execute(
            text("SELECT start, value FROM readings WHERE customer_id = :c"), {"c": customer_id}
        )
        return {int(start): float(value) for start, value in rows}


def test_a_batch_over_several_statements_counts_and_stores_each_reading(
    api: Api, runtime: Runtime
) -> None:
    sub = subscribe(api, params={"limit_kwh": 500})
    first = [float(i % 10) for i in range(1_000)]
    answer = post_readings(api, sub.tenant, hourly(sub.ref, berlin(0), first))
    assert (answer["accepted"], answer["duplicate"], answer["corrected"]) == (1_000, 0, 0)

    # 300 corrections among 700 repeats, then 501 new readings, in one batch.
    second = first[:300] + [v + 0.5 for v in first[300:600]] + first[600:] + [1.0] * 501
    answer = post_readings(api, sub.tenant, hourly(sub.ref, berlin(0), second))
    assert (answer["accepted"], answer["duplicate"], answer["corrected"]) == (501, 700, 300)
    again = post_readings(api, sub.tenant, hourly(sub.ref, berlin(0), second))
    assert (again["accepted"], again["duplicate"], again["corrected"]) == (0, 1_501, 0)

    assert count_rows(runtime, "readings", sub.id) == 1_501
    start = int(berlin(0).timestamp())
    assert _stored(runtime, sub.id) == {start + 3600 * i: v for i, v in enumerate(second)}
