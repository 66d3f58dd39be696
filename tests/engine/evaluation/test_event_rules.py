"""Event rules fire once per business event whose fields meet the customer's condition;
a corrected event is evaluated again."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import FrozenApi
from tests.fixtures.rules import BILL_EVENT, notifications, post_events, subscribe


def bill(customer: str, bill_id: str, amount: float) -> dict[str, Any]:
    return {
        "customer": customer,
        "type": "bill.issued",
        "id": bill_id,
        "amount": amount,
        "currency": "EUR",
        "fields": {"period": "2026-02"},
    }


def test_a_bill_above_the_limit_fires_once(frozen: FrozenApi) -> None:
    api = frozen.api
    sub = subscribe(api, BILL_EVENT, {"limit": 50})
    for bill_id, amount in (("inv-1", 49.99), ("inv-2", 50.0)):
        below = post_events(api, sub.tenant, [bill(sub.ref, bill_id, amount)])
        assert (below["accepted"], below["notifications"]) == (1, 0), amount

    high = bill(sub.ref, "inv-3", 61.2)
    first = post_events(api, sub.tenant, [high])
    assert (first["accepted"], first["notifications"]) == (1, 1)
    repeat = post_events(api, sub.tenant, [high])
    assert (repeat["accepted"], repeat["duplicate"], repeat["notifications"]) == (0, 1, 0)
    [notification] = notifications(api, sub.tenant, sub.id)
    assert notification["status"] == "pending" and notification["rule_key"] == BILL_EVENT["key"]
    event = notification["why"]["values"]["event"]
    assert (event["type"], event["amount"]) == ("bill.issued", 61.2)
    assert event["fields"] == {"period": "2026-02"}
    assert notification["why"]["params"] == {"limit": 50.0}

    corrected = post_events(api, sub.tenant, [bill(sub.ref, "inv-2", 75.0)])
    assert (corrected["corrected"], corrected["notifications"]) == (1, 1)
    amounts = [
        n["why"]["values"]["event"]["amount"] for n in notifications(api, sub.tenant, sub.id)
    ]
    assert amounts == [61.2, 75.0]
