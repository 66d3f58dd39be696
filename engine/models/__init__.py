"""SQLModel tables, one module per aggregate. Importing this registers them all."""

from engine.models.consent import ALL_TOPICS, Consent
from engine.models.customer import ContactKind, ContactPoint, Customer
from engine.models.history import HistoryEntry, HistoryKind
from engine.models.idempotency import IdempotencyRecord
from engine.models.preferences import ChannelKind, Preferences
from engine.models.tenant import ApiKey, Role, Tenant

__all__ = [
    "ALL_TOPICS",
    "ApiKey",
    "ChannelKind",
    "Consent",
    "ContactKind",
    "ContactPoint",
    "Customer",
    "HistoryEntry",
    "HistoryKind",
    "IdempotencyRecord",
    "Preferences",
    "Role",
    "Tenant",
]
