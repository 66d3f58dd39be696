"""What conditions and templates see of a customer and of a business event."""

from __future__ import annotations

from datetime import datetime

from engine.customers.refs import CustomerRef
from engine.evaluation.active import ActiveTrigger
from engine.models import Event
from engine.units import major_units
from rules.context import Context
from rules.context import Customer as CustomerContext
from rules.context import Event as EventContext


def customer_context(customer: CustomerRef) -> CustomerContext:
    """The customer as conditions and templates see them: customers without attributes share
    one context per locale and time zone (the context is frozen, and nothing writes to the
    attributes it reads)."""
    if customer.attributes:
        return CustomerContext(customer.locale, customer.timezone, customer.attributes)
    key = (customer.locale, customer.timezone)
    found = _WITHOUT_ATTRIBUTES.get(key)
    if found is None:
        if len(_WITHOUT_ATTRIBUTES) >= _MAX_SHARED:
            _WITHOUT_ATTRIBUTES.clear()
        found = _WITHOUT_ATTRIBUTES[key] = CustomerContext(customer.locale, customer.timezone, {})
    return found


# Most customers have no attributes, and a tenant's first batches plan one trigger per
# customer: one object per locale and zone, not one per customer kept in the ingest cache
# for the garbage collector to walk.
_WITHOUT_ATTRIBUTES: dict[tuple[str, str], CustomerContext] = {}
_MAX_SHARED = 4096


def event_context(event: Event) -> EventContext:
    amount = None
    if event.amount is not None and event.currency:
        amount = major_units(event.amount, event.currency)
    return EventContext(
        type=event.type,
        occurred_at=event.occurred_at,
        amount=amount,
        due_date=event.due,
        fields=event.fields,
    )


def event_condition_context(
    trigger: ActiveTrigger, event: Event, customer: CustomerRef, now: datetime
) -> Context:
    return Context(
        params=trigger.params,
        customer=customer_context(customer),
        now=now,
        event=event_context(event),
    )
