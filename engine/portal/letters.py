"""The message that carries a sign-in link, in the customer's language (English otherwise)."""

from __future__ import annotations

from engine.inbound.messages import language

SUBJECT = {
    "en": "Your link to manage your alerts from {tenant}",
    "de": "Ihr Link zu Ihren Benachrichtigungen von {tenant}",
}
BODY = {
    "en": "Open this link to manage your alerts from {tenant}. It works once, for {minutes} "
    "minutes:\n{url}\n\nIf you did not ask for it, ignore this message.",
    "de": "Öffnen Sie diesen Link, um Ihre Benachrichtigungen von {tenant} zu verwalten. Er "
    "gilt einmal, {minutes} Minuten lang:\n{url}\n\nFalls Sie ihn nicht angefordert haben, "
    "ignorieren Sie diese Nachricht.",
}
SMS = {
    "en": "{tenant}: your link to manage your alerts (once, {minutes} min): {url}",
    "de": "{tenant}: Ihr Link zu Ihren Benachrichtigungen (einmal, {minutes} Min.): {url}",
}


def subject(locale: str, tenant: str) -> str:
    return SUBJECT[language(locale)].format(tenant=tenant)


def body(channel: str, locale: str, tenant: str, url: str, minutes: int) -> str:
    texts = SMS if channel == "sms" else BODY
    return texts[language(locale)].format(tenant=tenant, url=url, minutes=minutes)
