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
    """The customer as conditions and templates see them."""
    return CustomerContext(customer.locale, customer.timezone, customer.attributes)


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
