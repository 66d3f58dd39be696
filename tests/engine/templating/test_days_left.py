"""Reminders count the days actually left, in the customer's zone, not the configured lead."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.templating import load_default_templates, render, sample_context


@pytest.mark.parametrize(
    ("due", "expected"),
    [(date(2027, 3, 3), "in 3 days"), (date(2027, 3, 1), "tomorrow"), (date(2027, 2, 28), "today")],
)
def test_a_late_reminder_says_how_many_days_are_left(due: date, expected: str) -> None:
    parts = load_default_templates()[("checkup.reminder", "sms", "en")]
    # 23:30 UTC on 27 February is already 28 February in Berlin.
    context = sample_context(
        "checkup.reminder", "en", "Europe/Berlin", datetime(2027, 2, 27, 23, 30, tzinfo=UTC)
    )
    context["params"]["days_before"] = 14
    context["event"]["due"] = due
    text = render(parts, context, "en", "Europe/Berlin").text
    assert f"is due {expected}, on" in text
