"""A tenant template over the defaults: the check-up call in Austrian German."""

from __future__ import annotations

from engine.message_templates.schemas import TemplateCreate

CHECKUP_CALL_DE_AT = TemplateCreate(
    key="checkup.reminder",
    channel="voice",
    locale="de-AT",
    parts={
        "text": (
            "Grüß Gott, {{ customer.name }}. Hier ist eine Erinnerung der Stadtwerke: "
            "Ihre Vorsorgeuntersuchung ist am {{ event.due|date('full') }}. "
            "Passt der Termin nicht, rufen Sie uns bitte an."
        )
    },
)

DEMO_TEMPLATES: tuple[TemplateCreate, ...] = (CHECKUP_CALL_DE_AT,)
