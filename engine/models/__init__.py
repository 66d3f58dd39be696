"""SQLModel tables, one module per aggregate. Importing this registers them all."""

from engine.models.consent import ALL_TOPICS, Consent
from engine.models.customer import ContactKind, ContactPoint, Customer
from engine.models.event import Event
from engine.models.history import HistoryEntry, HistoryKind
from engine.models.idempotency import IdempotencyRecord
from engine.models.notification import (
    OPEN_STATUSES,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
)
from engine.models.preferences import ChannelKind, Preferences
from engine.models.reading import MetricUnit, Reading, WindowAggregate
from engine.models.rule import Rule, RuleStatus, RuleVersion
from engine.models.template import Template
from engine.models.tenant import ApiKey, Role, Tenant
from engine.models.trigger import Trigger, TriggerState

__all__ = [
    "ALL_TOPICS",
    "OPEN_STATUSES",
    "ApiKey",
    "ChannelKind",
    "Consent",
    "ContactKind",
    "ContactPoint",
    "Customer",
    "DeliveryAttempt",
    "Event",
    "HistoryEntry",
    "HistoryKind",
    "IdempotencyRecord",
    "Notification",
    "NotificationStatus",
    "Preferences",
    "MetricUnit",
    "Reading",
    "Role",
    "Rule",
    "RuleStatus",
    "RuleVersion",
    "Template",
    "Tenant",
    "Trigger",
    "TriggerState",
    "WindowAggregate",
]
