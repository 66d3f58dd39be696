"""Domain errors: each carries its RFC 9457 problem type and HTTP status.

Services raise these; `api.problems` renders them once. Nothing here knows HTTP beyond the
status number it suggests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

PROBLEM_BASE = "https://nudge.dev/problems/"


@dataclass(frozen=True)
class FieldError:
    """One invalid field: its path (e.g. ``["body", "phone"]``) and why."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


@dataclass
class NudgeError(Exception):
    """Base of all domain errors."""

    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __post_init__(self) -> None:
        super().__init__(self.detail or self.title)

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug


class BadRequest(NudgeError):
    status = 400
    slug = "bad-request"
    title = "Malformed request"


class Unauthorized(NudgeError):
    status = 401
    slug = "unauthorized"
    title = "Missing, invalid or expired credentials"


class Forbidden(NudgeError):
    status = 403
    slug = "forbidden"
    title = "These credentials may not do this"


class NotFound(NudgeError):
    status = 404
    slug = "not-found"
    title = "No such resource"


class Conflict(NudgeError):
    status = 409
    slug = "conflict"
    title = "Conflicts with the current state"


class PayloadTooLarge(NudgeError):
    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(NudgeError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported content type"


class InvalidInput(NudgeError):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"

    @classmethod
    def at(cls, loc: tuple[str | int, ...], msg: str, type: str = "value_error") -> InvalidInput:
        """One-field validation error, e.g. ``InvalidInput.at(("body", "phone"), "not E.164")``."""
        return cls(detail=msg, errors=[FieldError(loc, msg, type)])


class IdempotencyMismatch(InvalidInput):
    slug = "idempotency-key-reused"
    title = "Idempotency-Key was used with a different request"


@dataclass
class RetryLater(NudgeError):
    """Refused for now: the same request may be sent again after ``retry_after`` seconds."""

    retry_after: int = 1


class TooManyRequests(RetryLater):
    status = 429
    slug = "too-many-requests"
    title = "Too many failed attempts: wait before trying again"


class FeedQueueFull(RetryLater):
    status = 429
    slug = "feed-queue-full"
    title = "Too many feed batches waiting for this key: send again after Retry-After"


class FeedRowsOverLimit(RetryLater):
    status = 429
    slug = "feed-rows-over-limit"
    title = "This key sent more feed rows than it may: send again after Retry-After"


class DatabaseUnavailable(RetryLater):
    status = 503
    slug = "database-unavailable"
    title = "The database cannot take requests right now: nothing was stored, retry later"


class Busy(RetryLater):
    """The database kept refusing this unit of work (deadlock, serialisation failure) after
    a bounded number of retries. Nothing of it was stored; the same request may be sent again
    after ``retry_after`` seconds."""

    status = 503
    slug = "busy"
    title = "Busy: nothing was stored, send the same request again"
