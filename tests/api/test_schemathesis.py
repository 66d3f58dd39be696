"""Schemathesis over every operation of /openapi.json, once per role: every answer must be one
the document declares, with the declared media type, headers and body schema.

Roles: the admin key, a tenant's ops key, its feed key, a customer's token, and no
credentials. Each operation gets a bounded number of generated requests per role
(``EXAMPLES``, positive and negative data mixed) against the app in process on a real SQLite
database (PostgreSQL is left to the other API tests, for time); the whole file stays within
about two minutes on two busy cores.

Left out of fuzzing, with the reason:
- the Twilio webhooks (``/v1/webhooks/twilio/*``): every request must carry Twilio's HMAC
  signature over the exact URL and form, which generated data cannot forge, so each would be
  the same 403; their signatures and answers are tested in test_webhook_signatures.py and
  test_webhooks.py.
- the HTML pages (the customer's pages and the ops console) are not in the document at all
  (``include_in_schema=False``): they are forms with CSRF tokens, tested in a real browser.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy import text

from api.app import create_app
from engine.platform.clock import SystemClock
from engine.processes.demo.rules import DAILY_ENERGY
from engine.processes.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures import database
from tests.fixtures.api import ADMIN_KEY, Api, TenantHandle, bearer
from tests.fixtures.rules import publish

# Generated requests per operation and role (positive and negative data mixed): with 52
# operations and 5 roles at most 2,080 requests (plus schemathesis's own probes without
# credentials), 55-105 s on two busy cores. Only the examples and fuzzing phases run: the
# coverage phase ignores this bound (every boundary of every schema: 15 min with 25 examples).
EXAMPLES = 8
ROLES = ["admin", "ops", "feed", "customer", "anonymous"]
WEBHOOKS = "^/v1/webhooks/"
TEMPLATE_KEY = "energy.daily_above"  # a default template every tenant has
# Path keys of /v1/rules/{key} name this rule, which fuzzing may change or retire; triggers
# are made on DAILY_ENERGY, which it leaves alone.
FUZZED_RULE = {**DAILY_ENERGY, "key": "energy.fuzzed"}

# Operations whose input is checked further than JSON Schema can state: a request the
# document allows may still be a 422 naming the field. Elsewhere a schema-valid request must
# never be a 400 or 422 (positive_data_acceptance).
BEYOND_THE_SCHEMA = {
    # libphonenumber's numbering plans: "+688058676084023" has E.164's shape but no owner.
    "^/v1/tenants$|^/v1/customers$|^/v1/customers/[^/]+$|^/v1/me$": "phone numbers are "
    "checked against numbering plans",
    # A cursor is the server's own encoding of a position: a random one is malformed.
    "^/v1/customers$|^/v1/notifications$|/history$": "cursors are opaque",
    "^/v1/me/preferences$": "a quiet period's start and end must differ",
    "^/v1/me/triggers": "a trigger names a published rule and its parameters fit that rule",
    "^/v1/rules": "conditions are compiled and type-checked CEL; definitions name templates",
    "^/v1/templates": "templates are Jinja parsed against their variables; parts per channel",
    "^/v1/feeds/": "rows are checked against metrics, units' dimensions, customers and time "
    "bounds; Green Button is XML",
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 11,
        "generation": {
            "max-examples": EXAMPLES,
            "mode": "all",
            "database": "none",
            # The role's credentials are sent as given, never generated or mutated.
            "with-security-parameters": False,
            # U+0000 is refused in every text, a 422 naming it (test_nul_input.py), which JSON
            # Schema cannot say once for all strings: generated strings leave it out.
            "allow-x00": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": False},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "checks": {"enabled": True},
        "operations": [
            {
                "include-path-regex": pattern,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, 422]}},
            }
            for pattern in BEYOND_THE_SCHEMA
        ],
    }
)


@dataclass
class World:
    app: FastAPI
    api: Api
    tenant: TenantHandle


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    """One tenant with its keys, on a migrated SQLite file."""
    directory = tmp_path_factory.mktemp("schemathesis")
    url = database.sqlite_copy(sqlite_template, directory)
    # Schemathesis repeats requests with wrong credentials to see them refused: at the
    # default limit every later request would be a 429 (the limit: test_auth_limits.py).
    settings = make_settings(url, directory, auth_failure_limit=1_000_000)
    runtime = Runtime.from_settings(settings, SystemClock())
    app = create_app(runtime)
    with TestClient(app) as client:
        forward.target, before = app, forward.target
        api = Api(client)
        tenant = api.tenant()
        publish(api, tenant, DAILY_ENERGY)
        publish(api, tenant, FUZZED_RULE)
        yield World(app, api, tenant)
    forward.target = before
    runtime.db.dispose()


class Scene:
    """Resources of the tenant for one operation, made on first use: a customer with a token
    and a trigger. Each operation gets its own, since ``DELETE /v1/me`` and
    ``DELETE /v1/customers/{customer_id}`` erase the customer they are called with."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._made: dict[str, str] = {}

    def ids(self) -> dict[str, str]:
        if not self._made:
            api, tenant = self.world.api, self.world.tenant
            customer = api.customer(tenant, email="fuzz@example.com", phone="+4915112345678")
            token = api.raw_token(tenant, customer["id"])
            body = {"rule": DAILY_ENERGY["key"], "params": {"limit_kwh": 5}}
            trigger = api.ok("POST", "/v1/me/triggers", bearer(token), 201, json=body)
            self._made = {
                "customer_id": customer["id"],
                "token": token,
                "trigger_id": trigger["id"],
            }
        return self._made

    def path_value(self, path: str, name: str) -> str | None:
        """A real value for the path parameter ``name`` of ``path``, if there is one."""
        known = {
            "tenant_id": self.world.tenant.id,
            "key": FUZZED_RULE["key"] if path.startswith("/v1/rules/") else TEMPLATE_KEY,
        }
        if name in known:
            return known[name]
        return self.ids().get(name)


@pytest.fixture
def scene(world: World) -> Scene:
    return Scene(world)


@pytest.fixture
def credentials(world: World, scene: Scene, role: str) -> dict[str, str]:
    """The role's Authorization header."""
    tenant = world.tenant
    if role == "customer":
        return bearer(scene.ids()["token"])
    keys = {"admin": bearer(ADMIN_KEY), "ops": tenant.ops, "feed": tenant.feed}
    return keys.get(role, {})


def forget_stored_answers(world: World) -> None:
    """Each generated request is a new one: hypothesis draws Idempotency-Keys from a small
    space, and an earlier example's key sent with another request is the 422 the document
    declares (test_idempotency_scope.py, test_idempotency_key_header.py), not a refusal of
    valid data. The key is still sent as generated: an unusable one must be a 400."""
    with world.app.state.runtime.db.begin() as connection:
        connection.execute(text("DELETE FROM idempotency_records"))


def use_real_ids(case: Any, scene: Scene) -> None:
    """About half the generated path parameters (deterministically, by the generated value)
    become real ids of the tenant, so that operations on real resources are fuzzed too; the
    rest stay random and must be 404s. A path that is deliberately invalid stays so."""
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH):
        return
    for name, value in list((case.path_parameters or {}).items()):
        real = scene.path_value(case.operation.path, name)
        if real is not None and len(str(value)) % 2 == 0:
            case.path_parameters[name] = real


class Forward:
    """An ASGI app that forwards to the app under test: the operations are collected before
    any fixture runs, and schemathesis's own probes (the same request without credentials)
    must reach the app the test built."""

    def __init__(self) -> None:
        never_opened = Path(tempfile.gettempdir()) / "nudge-document-only"
        settings = make_settings(f"sqlite:///{never_opened}.db", never_opened)
        runtime = Runtime.from_settings(settings, SystemClock())
        # Serves only /openapi.json, which opens no database.
        self.target: FastAPI = create_app(runtime)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


forward = Forward()
schema = schemathesis.openapi.from_asgi("/openapi.json", forward, config=CONFIG).exclude(
    path_regex=WEBHOOKS
)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(
    case: Any, credentials: dict[str, str], scene: Scene
) -> None:
    use_real_ids(case, scene)
    forget_stored_answers(scene.world)
    case.call_and_validate(headers=credentials)
