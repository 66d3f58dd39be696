"""SQL for a tenant's message templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select as columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine.models import Template
from engine.platform.db import end_reads
from engine.platform.ids import new_id


class TemplateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(
        self, tenant_id: str, key: str, channel: str, locale: str, *, for_update: bool = False
    ) -> Template | None:
        """One variant; ``for_update`` locks its row until the transaction ends (on
        PostgreSQL), so that concurrent edits of different parts both stay."""
        query = select(Template).where(
            Template.tenant_id == tenant_id,
            Template.key == key,
            Template.channel == channel,
            Template.locale == locale,
        )
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return self.session.exec(query).first()

    def for_key(self, tenant_id: str, key: str) -> list[Template]:
        query = select(Template).where(Template.tenant_id == tenant_id, Template.key == key)
        return list(self.session.exec(query.order_by(col(Template.channel), col(Template.locale))))

    def all(self, tenant_id: str) -> list[Template]:
        query = select(Template).where(Template.tenant_id == tenant_id)
        order = (col(Template.key), col(Template.channel), col(Template.locale))
        return list(self.session.exec(query.order_by(*order)))

    def end_reads(self) -> None:
        """End the transaction that has only read so far: a template renders under no lock."""
        end_reads(self.session)

    def save(self, row: Template) -> None:
        self.session.add(row)
        self.session.flush()

    def variants(self, tenant_id: str, key: str, channel: str) -> dict[str, dict[str, str]]:
        """Locale → parts of one key and channel, in one query (the dispatcher's hot path)."""
        query = columns(col(Template.locale), col(Template.parts)).where(
            col(Template.tenant_id) == tenant_id,
            col(Template.key) == key,
            col(Template.channel) == channel,
        )
        return {locale: parts for locale, parts in self.session.execute(query)}

    def upsert(
        self,
        tenant_id: str,
        key: str,
        channel: str,
        locale: str,
        parts: dict[str, str],
        now: datetime,
    ) -> Template:
        """Insert the template, or replace the parts of the one with this key, channel, locale."""
        row = self.get(tenant_id, key, channel, locale, for_update=True)
        if row is not None:
            row.parts, row.updated_at = dict(parts), now
            self.save(row)
            return row
        inserted = self.insert(tenant_id, key, channel, locale, parts, now)
        return inserted or self.upsert(tenant_id, key, channel, locale, parts, now)

    def insert(
        self,
        tenant_id: str,
        key: str,
        channel: str,
        locale: str,
        parts: dict[str, str],
        now: datetime,
    ) -> Template | None:
        """A new template; None if one with this key, channel and locale exists already."""
        row = Template(
            id=new_id("tpl"),
            tenant_id=tenant_id,
            key=key,
            channel=channel,
            locale=locale,
            parts=dict(parts),
            created_at=now,
            updated_at=now,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return row
