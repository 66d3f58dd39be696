"""Readings, keyed by (customer, metric, start, duration), and per-window aggregates of them.

Times are epoch seconds (UTC) here: these are the hot tables, written in bulk.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float
from sqlmodel import Field, SQLModel


class Reading(SQLModel, table=True):
    __tablename__ = "readings"

    customer_id: str = Field(primary_key=True, foreign_key="customers.id", max_length=40)
    metric: str = Field(primary_key=True, max_length=80)
    start: int = Field(primary_key=True, sa_type=BigInteger)
    duration: int = Field(primary_key=True)
    tenant_id: str = Field(max_length=40)
    value: float = Field(sa_type=Float)
    unit: str = Field(max_length=16)
    quality: str | None = Field(default=None, max_length=32)
    received_at: int = Field(sa_type=BigInteger)
    batch: str = Field(max_length=40)


class WindowAggregate(SQLModel, table=True):
    """Running aggregate of one customer's metric over one calendar window."""

    __tablename__ = "window_aggregates"

    customer_id: str = Field(primary_key=True, foreign_key="customers.id", max_length=40)
    metric: str = Field(primary_key=True, max_length=80)
    window: str = Field(primary_key=True, max_length=8)
    start: int = Field(primary_key=True, sa_type=BigInteger)
    end: int = Field(sa_type=BigInteger)
    sum: float = Field(sa_type=Float)
    count: int
    min: float = Field(sa_type=Float)
    max: float = Field(sa_type=Float)
    last_start: int = Field(sa_type=BigInteger)
    last_value: float = Field(sa_type=Float)
    covered_until: int = Field(sa_type=BigInteger)
    unit: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    # One more with every statement that changes the row: a batch evaluated on a window's
    # totals writes its own only where the row still has the revision it read.
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class MetricUnit(SQLModel, table=True):
    """The one canonical unit a tenant's metric is measured in, fixed by its first reading:
    a window never mixes kWh with euros or therms."""

    __tablename__ = "metric_units"

    tenant_id: str = Field(primary_key=True, foreign_key="tenants.id", max_length=40)
    metric: str = Field(primary_key=True, max_length=80)
    unit: str = Field(max_length=16)
