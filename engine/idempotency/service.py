"""Idempotency-Key semantics: same key and request → same answer; other request → error.

Stored answers never hold a secret: the fields an answer marks as secret (a new key, a
customer token, a sign-in link) are replaced before storing, so a replay gives the same ids
and says the secret was shown once. Answers expire (24 hours by default) and go with an
erased customer's data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta

from engine.errors import Conflict, IdempotencyMismatch
from engine.idempotency.repository import IdempotencyRepository
from engine.models import IdempotencyRecord
from engine.platform.clock import Clock

PENDING = 0
SHOWN_ONCE = "shown once, when this was first answered; not stored"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    content_type: str
    body: bytes
    customer_id: str | None = None


def redact(response: StoredResponse, secret_fields: Iterable[str]) -> StoredResponse:
    """The answer without the values of ``secret_fields`` (top-level JSON fields)."""
    names = [name for name in secret_fields if name]
    if not names:
        return response
    try:
        document = json.loads(response.body)
    except ValueError:
        return replace(response, body=b"")  # not JSON: keep nothing that may be secret
    if not isinstance(document, dict):
        return replace(response, body=b"")
    for name in names:
        if name in document:
            document[name] = None
    document["secret"] = SHOWN_ONCE
    return replace(response, body=json.dumps(document, separators=(",", ":")).encode())


class IdempotencyService:
    def __init__(self, repo: IdempotencyRepository, clock: Clock, ttl: timedelta) -> None:
        self._repo = repo
        self.clock = clock
        self.ttl = ttl

    def begin(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """The stored answer to replay, or None after claiming the key for this request."""
        now = self.clock.now()
        self._repo.remove_older_than(now - self.ttl)
        record = IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=request_hash,
            status_code=PENDING,
            content_type="",
            body=b"",
            created_at=now,
        )
        if self._repo.claim(record):
            return None
        existing = self._repo.get(scope, key)
        if existing is None:
            raise Conflict("a request with this Idempotency-Key is in progress; retry")
        if existing.request_hash != request_hash:
            raise IdempotencyMismatch(
                "this Idempotency-Key was used with a different request; use a new key"
            )
        if existing.status_code == PENDING:
            raise Conflict("a request with this Idempotency-Key is in progress; retry")
        return StoredResponse(existing.status_code, existing.content_type, existing.body)

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        record = self._repo.get(scope, key)
        if record is None:
            return
        record.status_code = response.status_code
        record.content_type = response.content_type
        record.body = response.body
        record.customer_id = response.customer_id
        self._repo.save(record)

    def abandon(self, scope: str, key: str) -> None:
        self._repo.remove(scope, key)

    def forget_customer(self, customer_id: str) -> None:
        """Erasure: stored answers about this customer go with their data."""
        self._repo.remove_for_customer(customer_id)
