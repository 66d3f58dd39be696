"""SQL for preferences."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col

from engine.models import Preferences


class PreferencesRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, customer_id: str) -> Preferences | None:
        return self.session.get(Preferences, customer_id)

    def save(self, row: Preferences) -> None:
        self.session.add(row)

    def delete_for_customer(self, customer_id: str) -> None:
        self.session.execute(delete(Preferences).where(col(Preferences.customer_id) == customer_id))
