"""A client, for the failed-authentication limit, is an IPv4 address or an IPv6 /64: a
subscriber holds a whole /64, so counting each of its addresses apart would count nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.auth.limits import client_of
from tests.api.conftest import FrozenApi
from tests.fixtures.api import bearer

LIMIT = 20  # the default NUDGE_AUTH_FAILURE_LIMIT, per 60 s


def _status(frozen: FrozenApi, host: str, headers: dict[str, str]) -> int:
    with TestClient(frozen.api.client.app, client=(host, 40000)) as client:
        return client.get("/v1/rules", headers=headers).status_code


def test_guesses_from_addresses_of_one_ipv6_64_share_its_limit(frozen: FrozenApi) -> None:
    tenant = frozen.api.tenant()
    for n in range(LIMIT):  # each guess from another address, each with another key id
        assert _status(frozen, f"2001:db8:1:2::{n + 1:x}", bearer(f"nk_g{n}.wrong")) == 401

    assert _status(frozen, "2001:db8:1:2:ffff:ffff:ffff:fffe", tenant.ops) == 429
    # The next /64 is another subscriber, and IPv4 clients are their own.
    assert _status(frozen, "2001:db8:1:3::1", tenant.ops) == 200
    assert _status(frozen, "192.0.2.10", tenant.ops) == 200


def test_a_client_is_its_ipv4_address_or_its_ipv6_64() -> None:
    assert client_of("192.0.2.7") == "192.0.2.7"
    assert client_of("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert client_of("2001:DB8:1:2::FFFF") == "2001:db8:1:2::/64"
    assert client_of("testclient") == "testclient"
    assert client_of(None) == client_of("") == "-"
