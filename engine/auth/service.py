"""Turn a bearer credential into a `Principal`, or refuse it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.errors import Forbidden, Unauthorized
from engine.models import Customer, Role, Tenant
from engine.platform.clock import Clock
from engine.platform.config import Settings
from engine.platform.security import (
    KEY_PREFIX,
    TOKEN_PREFIX,
    hash_secret,
    same_secret,
    secret_matches,
    sign,
    split_key,
    verify,
)
from engine.tenants.service import TenantService

CUSTOMER_TOKEN = "customer-token"
ENV_ADMIN_KEY_ID = "env-admin"
NO_KEY_HASH = hash_secret("")  # no key's secret is empty


def key_id_of(credential: str) -> str | None:
    """The id part of an API key (``nk_….secret``), None for anything else."""
    key_id, sep, _ = credential.partition(".")
    return key_id if sep and key_id.startswith(KEY_PREFIX) and len(key_id) <= 64 else None


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``role`` is ``admin``, ``ops``, ``feed`` or ``customer``."""

    role: str
    key_id: str
    tenant_id: str | None = None
    customer_id: str | None = None

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"{_credential(self.role)} may not do this; it needs {_any(roles)}")


def _credential(role: str) -> str:
    """``ops`` → "an ops key", ``customer`` → "a customer token"."""
    name = str(getattr(role, "value", role))
    kind = "token" if name == "customer" else "key"
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name} {kind}"


def _any(roles: tuple[str, ...]) -> str:
    """ "an ops key or a feed key"."""
    return " or ".join(_credential(role) for role in roles)


@dataclass(frozen=True)
class Caller:
    """Who is asking, with what a request needs of them: a business key's tenant, a customer
    token's customer (None once it no longer exists)."""

    principal: Principal
    tenant: Tenant | None = None
    customer: Customer | None = None


CustomerLookup = Callable[[str, str], Customer | None]  # (tenant id, customer id)
ReadsApart = Callable[[bool], AbstractContextManager[None]]  # (whether a write follows)


@dataclass(frozen=True)
class CustomerToken:
    token: str
    expires_at: datetime


class Authenticator:
    def __init__(
        self,
        tenants: TenantService,
        settings: Settings,
        clock: Clock,
        customers: CustomerLookup,
        reads_apart: ReadsApart,
    ) -> None:
        self.tenants = tenants  # whose API keys are checked
        self.settings = settings
        self.clock = clock
        self._customers = customers
        self._reads_apart = reads_apart

    def identify(self, credential: str, writes: bool) -> Caller:
        """The caller of a request and their tenant or customer, read in a transaction of its
        own that ends before the request's work (`engine.platform.db.reads_apart`): on SQLite
        no request waits for, or holds, the write lock while it is authenticated. ``writes``:
        the request may write, so what is loaded here is read again when next used."""
        with self._reads_apart(writes):
            principal = self.authenticate(credential)
            return Caller(principal, self._tenant_of(principal), self._customer_of(principal))

    def _tenant_of(self, principal: Principal) -> Tenant | None:
        business = principal.role in (Role.ops, Role.feed)
        return self.tenants.find(principal.tenant_id) if business and principal.tenant_id else None

    def _customer_of(self, principal: Principal) -> Customer | None:
        tenant_id, customer_id = principal.tenant_id, principal.customer_id
        if principal.role != "customer" or tenant_id is None or customer_id is None:
            return None
        return self._customers(tenant_id, customer_id)

    def authenticate(self, credential: str) -> Principal:
        if credential.startswith(TOKEN_PREFIX):
            return self._customer(credential.removeprefix(TOKEN_PREFIX))
        admin = self.settings.admin_key
        if admin is not None and same_secret(credential, admin.get_secret_value()):
            return Principal(role=Role.admin, key_id=ENV_ADMIN_KEY_ID)
        if credential.startswith(KEY_PREFIX):
            return self._api_key(credential)
        raise Unauthorized("unrecognised credential")

    def _api_key(self, credential: str) -> Principal:
        key_id, secret = split_key(credential)
        # No key id holds U+0000 (PostgreSQL could not even look one up): an unknown key.
        row = self.tenants.find_key(key_id) if "\x00" not in key_id else None
        # The secret is always compared, in constant time (an unknown key id against a
        # stand-in): the comparison's timing tells nothing about the secret or the id.
        matches = secret_matches(secret, row.secret_hash if row is not None else NO_KEY_HASH)
        if row is None or row.revoked_at is not None or not matches:
            raise Unauthorized("invalid or revoked API key")
        return Principal(role=row.role, key_id=row.id, tenant_id=row.tenant_id)

    def _customer(self, token: str) -> Principal:
        secret = self.settings.secret_key.get_secret_value()
        claims = verify(secret, CUSTOMER_TOKEN, token, self.clock.now().timestamp())
        tenant_id, customer_id = claims.get("t"), claims.get("c")
        if not isinstance(tenant_id, str) or not isinstance(customer_id, str):
            raise Unauthorized("malformed customer token")
        return Principal(
            role="customer",
            key_id=f"token:{customer_id}",
            tenant_id=tenant_id,
            customer_id=customer_id,
        )

    def issue_customer_token(
        self, tenant_id: str, customer_id: str, ttl: int | None = None
    ) -> CustomerToken:
        """A signed token for one customer, valid ``ttl`` seconds (default: the configured)."""
        ttl = ttl or self.settings.customer_token_ttl_seconds
        expires_at = self.clock.now() + timedelta(seconds=ttl)
        claims = {"t": tenant_id, "c": customer_id, "exp": int(expires_at.timestamp())}
        token = sign(self.settings.secret_key.get_secret_value(), CUSTOMER_TOKEN, claims)
        return CustomerToken(TOKEN_PREFIX + token, expires_at.replace(microsecond=0))
