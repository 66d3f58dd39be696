"""Twilio's message and call statuses, ranked by how far a delivery has come."""

from __future__ import annotations

from engine.channels.webhooks import StatusScale

# A callback never moves an attempt backwards: a late "sent" after "delivered" changes nothing.
TWILIO_STATUSES = StatusScale(
    ranks={
        "accepted": 0, "scheduled": 0, "queued": 0, "initiated": 1, "sending": 1, "sent": 2,
        "ringing": 2, "in-progress": 3, "answered": 3, "delivered": 5, "completed": 5,
        "failed": 5, "undelivered": 5, "busy": 5, "no-answer": 5, "canceled": 5, "read": 6,
    },
    final_rank=5,
    delivered=frozenset({"delivered"}),
    failed=frozenset({"failed", "undelivered"}),
)  # fmt: skip
