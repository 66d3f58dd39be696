"""Erasure of what the business pushed about a customer: their readings and events."""

from __future__ import annotations

from engine.feeds.events_repository import EventRepository
from engine.feeds.repository import ReadingRepository
from engine.models import Customer


class FeedErasure:
    def __init__(self, readings: ReadingRepository, events: EventRepository) -> None:
        self._readings = readings
        self._events = events

    def erase_for(self, customer: Customer) -> None:
        self._readings.delete_for_customer(customer.id)
        self._events.delete_for_customer(customer.id)
