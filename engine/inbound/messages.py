"""What nudge answers to inbound traffic, in the customer's language (English otherwise)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.errors import InvalidInput
from engine.templating import TemplateNotFound, localized, resolve_locale

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "sms.stopped": "You will no longer receive SMS from {tenant}. Reply START to resubscribe.",
        "sms.started": "You will receive SMS from {tenant} again. Reply STOP to unsubscribe.",
        "sms.help": "{tenant}: reply STOP to unsubscribe, START to resubscribe, OK to confirm.",
        "sms.confirmed": "Thank you, {tenant} has received your confirmation.",
        "voice.confirmed": "Thank you, your confirmation has been recorded. Goodbye.",
        "voice.stopped": "You will receive no more calls from {tenant}. Goodbye.",
        "voice.other": "Thank you. Goodbye.",
        "page.unsubscribe.title": "Unsubscribe",
        "page.unsubscribe.ask": "Stop {channel} from {tenant} about {topic}?",
        "page.unsubscribe.ask_all": "Stop all {channel} from {tenant}?",
        "page.unsubscribe.button": "Unsubscribe",
        "page.unsubscribed": "Done: you will receive no more {channel} from {tenant} about "
        "{topic}.",
        "page.unsubscribed_all": "Done: you will receive no more {channel} from {tenant}.",
        "page.ack.title": "Thank you",
        "page.ack.ask_title": "Confirm",
        "page.ack.ask": "Confirm to {tenant} that you have seen this message?",
        "page.ack.button": "Confirm",
        "page.ack.done": "Thank you, {tenant} has received your confirmation.",
        "channel.email": "emails",
        "channel.sms": "text messages",
        "channel.voice": "calls",
    },
    "de": {
        "sms.stopped": "Sie erhalten keine SMS mehr von {tenant}. Antworten Sie START, um sie "
        "wieder zu erhalten.",
        "sms.started": "Sie erhalten wieder SMS von {tenant}. Antworten Sie STOP zum Abbestellen.",
        "sms.help": "{tenant}: Antworten Sie STOP zum Abbestellen, START zum erneuten Anmelden, "
        "OK zum Bestätigen.",
        "sms.confirmed": "Vielen Dank, Ihre Bestätigung ist bei {tenant} eingegangen.",
        "voice.confirmed": "Vielen Dank, Ihre Bestätigung wurde gespeichert. Auf Wiederhören.",
        "voice.stopped": "Sie erhalten keine Anrufe mehr von {tenant}. Auf Wiederhören.",
        "voice.other": "Vielen Dank. Auf Wiederhören.",
        "page.unsubscribe.title": "Abmelden",
        "page.unsubscribe.ask": "Keine {channel} mehr von {tenant} zum Thema {topic}?",
        "page.unsubscribe.ask_all": "Keine {channel} mehr von {tenant}?",
        "page.unsubscribe.button": "Abmelden",
        "page.unsubscribed": "Erledigt: Sie erhalten keine {channel} mehr von {tenant} zum "
        "Thema {topic}.",
        "page.unsubscribed_all": "Erledigt: Sie erhalten keine {channel} mehr von {tenant}.",
        "page.ack.title": "Vielen Dank",
        "page.ack.ask_title": "Bestätigen",
        "page.ack.ask": "{tenant} bestätigen, dass Sie diese Nachricht gesehen haben?",
        "page.ack.button": "Bestätigen",
        "page.ack.done": "Vielen Dank, Ihre Bestätigung ist bei {tenant} eingegangen.",
        "channel.email": "E-Mails",
        "channel.sms": "SMS",
        "channel.voice": "Anrufe",
    },
}
DEFAULT_LANGUAGE = "en"
QUOTES = {"en": ("“", "”"), "de": ("„", "“")}


def language(locale: str, tenant_default: str | None = None) -> str:
    """The language we have texts for, by the chain messages follow: ``de-AT`` → ``de`` →
    the tenant's default → English."""
    try:
        return resolve_locale(locale, TEXTS, tenant_default)
    except (TemplateNotFound, InvalidInput):
        return DEFAULT_LANGUAGE


def topic_name(
    topic: str, titles: Sequence[Mapping[str, str]], locale: str, *, quoted: bool = True
) -> str:
    """How a customer knows a topic: the titles of the published rules in it, in the page's
    language and quoted for a sentence ("„Täglicher Stromverbrauch über Ihrem Limit“"); its
    key if none."""
    names = list(dict.fromkeys(t for t in (localized(titles_, locale) for titles_ in titles) if t))
    if not names:
        return topic
    if not quoted:
        return ", ".join(names)
    start, end = QUOTES.get(language(locale), ('"', '"'))
    return ", ".join(f"{start}{name}{end}" for name in names)


def text(key: str, locale: str, **values: str) -> str:
    return TEXTS[language(locale)][key].format(**values)


def channel_label(channel: str, locale: str) -> str:
    """How a page names a channel ("emails", "SMS"); unknown channels by their name."""
    return TEXTS[language(locale)].get(f"channel.{channel}", channel)
