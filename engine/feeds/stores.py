"""Feeds' own tables over one session, handed to a batch as one value: the functions of
`engine.feeds.store` and `engine.feeds.events` take it, so what composes feeds with other
domains (`engine.ingest`) never names feeds' repositories. Built only by the wiring."""

from __future__ import annotations

from dataclasses import dataclass

from engine.feeds.events_repository import EventRepository
from engine.feeds.repository import ReadingRepository


@dataclass(frozen=True)
class FeedStores:
    readings: ReadingRepository
    events: EventRepository
