"""Idempotency-Key semantics: same key and request → same answer; other request → error."""

from __future__ import annotations

from dataclasses import dataclass

from engine.clock import Clock
from engine.errors import Conflict, IdempotencyMismatch
from engine.idempotency.repository import IdempotencyRepository
from engine.models import IdempotencyRecord

PENDING = 0


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    content_type: str
    body: bytes


class IdempotencyService:
    def __init__(self, repo: IdempotencyRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    def begin(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """The stored answer to replay, or None after claiming the key for this request."""
        record = IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=request_hash,
            status_code=PENDING,
            content_type="",
            body=b"",
            created_at=self.clock.now(),
        )
        if self.repo.claim(record):
            return None
        existing = self.repo.get(scope, key)
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
        record = self.repo.get(scope, key)
        if record is None:
            return
        record.status_code = response.status_code
        record.content_type = response.content_type
        record.body = response.body
        self.repo.save(record)

    def abandon(self, scope: str, key: str) -> None:
        self.repo.remove(scope, key)
