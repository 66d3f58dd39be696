"""Tenant isolation, proven over every route in the OpenAPI document.

Tenant B's keys and B's customer token are sent at tenant A's objects. A foreign id must
answer 404 (no existence leak); a role that may not use a route at all gets 403 whoever owns
the object. Routes are read from ``app.openapi()``, so a new route is covered the moment it
exists: if it has a path parameter this file cannot fill, the test fails and says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.fixtures.api import Api, TenantHandle
from tests.fixtures.rules import DAILY_ENERGY, publish

# Reachable without credentials, or authenticated by a signature instead of a bearer.
PUBLIC_ROUTES = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/v1/webhooks/twilio/status",
    "/v1/webhooks/twilio/inbound",
    "/v1/webhooks/twilio/voice",
    "/v1/unsubscribe",
    "/v1/ack",
}
ADMIN_PREFIX = "/v1/tenants"
ROLES = ("ops", "feed", "customer")


@dataclass
class TenantWorld:
    """One tenant and the tenant-wide objects the routes act on."""

    tenant: TenantHandle
    rule_key: str
    template_key: str | None = None

    @property
    def secrets(self) -> set[str]:
        keys = {self.rule_key, self.template_key} - {None}
        return {self.tenant.id, *(key for key in keys if key)}


@dataclass
class Side:
    """A customer of a tenant with a token and objects of their own."""

    world: TenantWorld
    customer: dict[str, Any]
    token: dict[str, str]
    trigger_id: str
    secrets: set[str] = field(default_factory=set)

    def headers(self, role: str) -> dict[str, str]:
        tenant = self.world.tenant
        return {"ops": tenant.ops, "feed": tenant.feed, "customer": self.token}[role]


Fill = Callable[[Side], str]

# Path parameters: "<path template prefix>:<name>" for a name that means different things
# on different routes, else just "<name>". Each yields the id of an object owned by the side.
PATH_PARAMS: dict[str, Fill] = {
    "tenant_id": lambda side: side.world.tenant.id,
    "customer_id": lambda side: str(side.customer["id"]),
    "/v1/rules/{key}:key": lambda side: side.world.rule_key,
    "/v1/templates/{key}:key": lambda side: _required(side.world.template_key),
    "trigger_id": lambda side: side.trigger_id,
}
# Query parameters that name an object; required ones missing here fail the test.
QUERY_PARAMS: dict[str, Fill] = {
    "external_id": lambda side: str(side.customer["external_id"]),
    "/v1/feeds/greenbutton:customer": lambda side: str(side.customer["external_id"]),
    "/v1/notifications:customer": lambda side: str(side.customer["id"]),
}
# Bodies that pass validation, so the call reaches the ownership check (default: none); a
# callable gets the side whose objects are targeted.
BODIES: dict[str, Any] = {
    "POST /v1/tenants": {"name": "Intruder"},
    "POST /v1/tenants/{tenant_id}/keys": {"role": "ops"},
    "POST /v1/customers": {"name": "Someone"},
    "PATCH /v1/customers/{customer_id}": {"name": "Changed"},
    "POST /v1/customers/{customer_id}/tokens": {"ttl_seconds": 600},
    "POST /v1/customers/{customer_id}/consents": {"channel": "sms", "granted": True},
    "PATCH /v1/me": {"name": "Changed"},
    "POST /v1/me/consents": {"channel": "sms", "granted": True},
    "PATCH /v1/me/preferences": {"urgent_override": True},
    "POST /v1/me/triggers": lambda side: {"rule": side.world.rule_key, "params": {"limit_kwh": 9}},
    "PATCH /v1/me/triggers/{trigger_id}": {"enabled": False},
    "PATCH /v1/rules/{key}": {"condition": "window.sum > params.limit_kwh + 1.0"},
    "POST /v1/rules/{key}/backtest": {"params": {"limit_kwh": 5}, "readings": []},
    "PATCH /v1/templates/{key}": {"channel": "sms", "locale": "en", "parts": {"text": "Hi"}},
    "POST /v1/templates/{key}/preview": {"channel": "sms", "locale": "en"},
    "POST /v1/feeds/readings": [],
    "POST /v1/feeds/events": [],
}


def _lookup(table: dict[str, Fill], path: str, name: str) -> Fill | None:
    """The entry for ``name`` under the longest matching path prefix, else the bare name."""
    scoped = [
        (len(prefix), fill)
        for entry, fill in table.items()
        for prefix, _, param in [entry.rpartition(":")]
        if prefix and param == name and path.startswith(prefix)
    ]
    return max(scoped, key=lambda item: item[0])[1] if scoped else table.get(name)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.parameters if p["in"] == "path"]

    def url(self, side: Side) -> str:
        url = self.path
        for name in self.path_params:
            fill = _lookup(PATH_PARAMS, self.path, name)
            if fill is None:
                pytest.fail(
                    f"{self.name}: cannot fill path parameter {name!r}. Add an entry to "
                    "PATH_PARAMS in tests/api/test_isolation.py that returns the id of an object "
                    "owned by the given side (create the object in _side or _world)."
                )
            url = url.replace("{" + name + "}", fill(side))
        return url

    def query(self, side: Side) -> dict[str, str]:
        values: dict[str, str] = {}
        for param in (p for p in self.parameters if p["in"] == "query"):
            fill = _lookup(QUERY_PARAMS, self.path, param["name"])
            if fill is not None:
                values[param["name"]] = fill(side)
            elif param.get("required"):
                pytest.fail(
                    f"{self.name}: cannot fill required query parameter {param['name']!r}; "
                    "add it to QUERY_PARAMS in tests/api/test_isolation.py."
                )
        return values

    def call(self, api: Api, target: Side, caller: Side, role: str) -> Any:
        body = BODIES.get(self.name)
        if callable(body):
            body = body(target)
        return api.client.request(
            self.method,
            self.url(target),
            params=self.query(target),
            headers=caller.headers(role),
            json=body,
        )


def _operations(api: Api) -> list[Operation]:
    schema = api.client.app.openapi()  # type: ignore[attr-defined]
    found = [
        Operation(method.upper(), path, spec.get("parameters", []))
        for path, methods in schema["paths"].items()
        if path not in PUBLIC_ROUTES
        for method, spec in methods.items()
    ]
    # Erasing calls last, children before parents, so they do not pull objects from under
    # the others.
    return sorted(found, key=lambda op: (op.method == "DELETE", -len(op.path)))


def _world(api: Api, name: str) -> TenantWorld:
    """A tenant with a published rule and a template whose keys no other tenant uses."""
    tenant = api.tenant(name)
    prefix = name.lower().replace(" ", "_")
    world = TenantWorld(tenant, f"{prefix}.daily_above")
    publish(api, tenant, {**DAILY_ENERGY, "key": world.rule_key})
    if "/v1/templates" in api.client.app.openapi()["paths"]:  # type: ignore[attr-defined]
        world.template_key = f"{prefix}.note"
        template = {"channel": "sms", "locale": "en", "parts": {"text": "Hello"}}
        api.ok(
            "POST", "/v1/templates", tenant.ops, 201, json={"key": world.template_key, **template}
        )
    return world


def _required(value: str | None) -> str:
    assert value is not None
    return value


def _side(api: Api, world: TenantWorld, name: str) -> Side:
    customer = api.customer(
        world.tenant,
        name=name,
        email=f"{name.lower()}@example.com",
        phone="+4915123456789",
        consents=[{"channel": "email"}],
    )
    token = api.token(world.tenant, customer["id"])
    trigger = api.ok(
        "POST",
        "/v1/me/triggers",
        token,
        201,
        json={"rule": world.rule_key, "params": {"limit_kwh": 7}},
    )
    side = Side(world, customer, token, trigger["id"])
    side.secrets = {customer["id"], customer["external_id"], customer["email"], trigger["id"]}
    return side


def _snapshot(api: Api, side: Side) -> list[Any]:
    tenant = side.world.tenant
    return [
        api.ok("GET", f"/v1/customers/{side.customer['id']}", tenant.ops),
        api.ok("GET", f"/v1/rules/{side.world.rule_key}", tenant.ops),
        api.ok("GET", "/v1/me/consents", side.token),
        api.ok("GET", "/v1/me/preferences", side.token),
        api.ok("GET", "/v1/me/triggers", side.token),
        api.ok("GET", "/v1/me/history", side.token),
    ]


def _foreign_object(api: Api, op: Operation, mine: Side, theirs: Side) -> dict[str, int]:
    """B's credentials at A's object: 404, or a refusal by role. Answers each role's status."""
    refusals: dict[str, int] = {}
    for role in ROLES:
        response = op.call(api, target=mine, caller=theirs, role=role)
        where = f"{op.name} as tenant B's {role} at tenant A's object"
        if response.status_code == 422:
            pytest.fail(
                f"{where}: 422 {response.text}. The call must get past validation to reach the "
                "ownership check: add a valid body to BODIES in tests/api/test_isolation.py."
            )
        assert response.status_code in (401, 403, 404), (where, response.status_code, response.text)
        assert not _leaked(mine, response), where
        if op.path.startswith(ADMIN_PREFIX):
            assert response.status_code == 403, where
        refusals[role] = response.status_code
    return refusals


def _owner_control(api: Api, op: Operation, mine: Side, refusals: dict[str, int]) -> None:
    """A's own credentials on the same route: found where B got 404, refused alike otherwise."""
    for role, status in refusals.items():
        erases = op.method == "DELETE" and status == 404
        owner = _side(api, _world(api, f"Owner {role}"), "Owner") if erases else mine
        control = op.call(api, target=owner, caller=owner, role=role)
        where = f"{op.name} as tenant A's own {role} (B got {status})"
        if status == 404:
            assert control.status_code not in (401, 403, 404), (where, control.text)
        else:
            assert control.status_code == status, (where, control.text)


def _strings(text: str) -> set[str]:
    return set(re.findall(r"[\w.+@-]+", text))


def _leaked(side: Side, response: httpx.Response) -> set[str]:
    """The side's identifiers in an answer, other than those the caller sent itself."""
    request = response.request
    sent = _strings(str(request.url)) | _strings(request.content.decode())
    return ((side.secrets | side.world.secrets) - sent) & _strings(response.text)


def _own_scope(api: Api, op: Operation, mine: Side, theirs: Side) -> None:
    """Routes without ids, called by B: nothing of A's may show up in the answer."""
    for role in ROLES:
        response = op.call(api, target=mine, caller=theirs, role=role)
        where = f"{op.name} as tenant B's {role}"
        assert response.status_code < 500, (where, response.text)
        assert not _leaked(mine, response), where
        if op.path.startswith(ADMIN_PREFIX):
            assert response.status_code == 403, (where, response.status_code)


def test_no_route_lets_another_tenant_reach_an_object(api: Api) -> None:
    world_a, world_b = _world(api, "Tenant A"), _world(api, "Tenant B")
    mine, theirs = _side(api, world_a, "Alice"), _side(api, world_b, "Bob")
    before = _snapshot(api, mine)
    operations = _operations(api)
    assert {"GET /v1/customers/{customer_id}", "GET /v1/me"} <= {op.name for op in operations}

    refusals: list[tuple[Operation, dict[str, int]]] = []
    for op in operations:
        if op.path_params:
            refusals.append((op, _foreign_object(api, op, mine, theirs)))
        else:
            _own_scope(api, op, mine, theirs)
    assert _snapshot(api, mine) == before

    for op, statuses in refusals:
        _owner_control(api, op, mine, statuses)


def test_another_customer_of_the_same_tenant_sees_nothing(api: Api) -> None:
    world = _world(api, "Tenant A")
    alice, bob = _side(api, world, "Alice"), _side(api, world, "Bob")

    for path in ("/v1/me", "/v1/me/consents", "/v1/me/history", "/v1/me/export", "/v1/me/triggers"):
        text = api.client.get(path, headers=bob.token).text
        assert not alice.secrets & _strings(text), path
    for method, body in (("GET", None), ("PATCH", {"enabled": False}), ("DELETE", None)):
        api.problem(method, f"/v1/me/triggers/{alice.trigger_id}", bob.token, 404, json=body)
    assert api.ok("GET", f"/v1/me/triggers/{alice.trigger_id}", alice.token)["enabled"] is True
