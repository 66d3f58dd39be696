"""What a condition sees of its customer: customers without attributes share one context per
locale and time zone; each customer's own attributes stay theirs, in one batch and after a
customer gains or loses them."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import FrozenApi
from tests.fixtures.rules import (
    DAILY_ENERGY,
    berlin,
    hourly,
    notifications,
    post_readings,
    publish,
    subscribe,
)

WITHOUT_ATTRIBUTES: dict[str, Any] = {
    **DAILY_ENERGY,
    "key": "energy.daily_above_without_attributes",
    "condition": "window.sum > params.limit_kwh && size(customer.attributes) == 0",
}


def test_each_customer_sees_their_own_attributes_or_none(frozen: FrozenApi) -> None:
    api = frozen.api
    tenant = api.tenant()
    publish(api, tenant, WITHOUT_ATTRIBUTES)
    rule, limit = WITHOUT_ATTRIBUTES, {"limit_kwh": 5}
    # One locale and zone: the two without attributes share a context, the other has its own.
    first = subscribe(api, rule, limit, tenant=tenant)
    tariff = subscribe(api, rule, limit, tenant=tenant, attributes={"tariff": "night"})
    second = subscribe(api, rule, limit, tenant=tenant)
    subs = [first, tariff, second]

    day_one = [row for s in subs for row in hourly(s.ref, berlin(0), [6.0])]
    assert post_readings(api, tenant, day_one)["notifications"] == 2
    assert [len(notifications(api, tenant, s.id)) for s in subs] == [1, 0, 1]

    # The first gains attributes and the one with a tariff loses them; the next day each
    # condition sees the customer as they are now.
    for sub, attributes in ((first, {"tariff": "day"}), (tariff, {})):
        path = f"/v1/customers/{sub.id}"
        api.ok("PATCH", path, tenant.feed, json={"attributes": attributes})
    day_two = [row for s in subs for row in hourly(s.ref, berlin(24), [6.0])]
    assert post_readings(api, tenant, day_two)["notifications"] == 2
    assert [len(notifications(api, tenant, s.id)) for s in subs] == [1, 1, 2]
