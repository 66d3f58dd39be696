"""Rules (ops-authored, draft → published → retired) and their immutable published versions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from engine.models.types import JSONType, Name, UTCDateTime


class RuleStatus(StrEnum):
    draft = "draft"
    published = "published"
    retired = "retired"


class Rule(SQLModel, table=True):
    __tablename__ = "rules"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    key: str = Field(max_length=120)
    status: RuleStatus = Field(sa_type=Name())
    draft: dict[str, Any] = Field(sa_type=JSONType)
    latest_version: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    tests: str | None = Field(default=None, sa_type=Text)  # rule tests (YAML), run on save


class RuleVersion(SQLModel, table=True):
    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version"),)

    id: str = Field(primary_key=True, max_length=40)
    tenant_id: str = Field(foreign_key="tenants.id", max_length=40)
    rule_id: str = Field(foreign_key="rules.id", max_length=40)
    version: int
    definition: dict[str, Any] = Field(sa_type=JSONType)
    published_at: datetime = Field(sa_type=UTCDateTime)
