"""Prometheus metrics, defined once."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

http_requests = Histogram(
    "nudge_http_request_duration_seconds",
    "HTTP request latency by route and status",
    ["method", "route", "status"],
)
readings_ingested = Counter(
    "nudge_readings_ingested_total", "Readings accepted by the feeds, by outcome", ["outcome"]
)
evaluations = Counter("nudge_evaluations_total", "Trigger evaluations, by result", ["result"])
notifications = Counter(
    "nudge_notifications_total",
    "Notification status changes, by status and channel",
    ["status", "channel"],
)
send_latency = Histogram(
    "nudge_send_latency_seconds", "Time from decision to provider acceptance", ["channel"]
)
