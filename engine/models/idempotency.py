"""Stored answers to POSTs that carried an ``Idempotency-Key``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from engine.models.types import UTCDateTime


class IdempotencyRecord(SQLModel, table=True):
    """An answer as it may be replayed: secrets are never in ``body`` (see
    `engine.idempotency.service.redact`); ``customer_id`` names the customer whose data it may
    hold, so that erasing them erases it too."""

    __tablename__ = "idempotency_records"

    scope: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    content_type: str = Field(max_length=100)
    body: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    customer_id: str | None = Field(default=None, max_length=40, index=True)
