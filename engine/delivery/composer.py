"""Turn a notification into the message for one channel: the render context from the stored
"why", the template in the customer's language, links, sender and provider callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from engine.channels.base import OutboundMessage
from engine.delivery.links import (
    Unsubscribe,
    ack_url,
    message_manage_url,
    preferences_url,
    status_callback_url,
    unsubscribe_url,
    voice_gather_url,
)
from engine.errors import NudgeError
from engine.models import Customer, Notification, Tenant
from engine.platform.config import Settings
from engine.templating import RenderedMessage, formatting_locale, localized, render
from engine.templating.pool import RenderRequest

Resolve = Callable[[str, str, str, str, str | None], tuple[str, Mapping[str, str]]]
_WINDOW_TIMES = ("start", "end")


def _time(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None


def _window(values: Mapping[str, Any] | None, unit: str) -> dict[str, Any] | None:
    if not values:
        return None
    window = dict(values)
    for name in _WINDOW_TIMES:
        window[name] = _time(values.get(name))
    window["unit"] = unit
    return window


def _event(values: Mapping[str, Any] | None, currency: str) -> dict[str, Any] | None:
    if not values:
        return None
    due, amount = values.get("due_date"), values.get("amount")
    return {
        "type": values.get("type", ""),
        "occurred_at": _time(values.get("occurred_at")),
        "fields": dict(values.get("fields") or {}),
        "due": date.fromisoformat(due) if due else None,
        "amount": Decimal(str(amount)) if amount is not None else None,
        "currency": currency or None,
    }


def render_context(
    notification: Notification,
    customer: Customer,
    rule: Mapping[str, Any],
    links: dict[str, str | None],
    now: datetime,
    language: str | None = None,
) -> dict[str, Any]:
    """Everything a template may use (SPEC §3), rebuilt from what the decision stored;
    the rule's title in ``language`` (the message's, by default the customer's)."""
    why = notification.why
    values: Mapping[str, Any] = why.get("values", {})
    unit = str(why.get("unit") or "")
    return {
        "params": dict(why.get("params", {})),
        "window": _window(values.get("window"), unit),
        "previous": _window(values.get("previous"), unit),
        "baseline": values.get("baseline"),
        "event": _event(values.get("event"), unit),
        "customer": {
            "name": customer.name or "",
            "locale": customer.locale,
            "timezone": customer.timezone,
            "attributes": dict(customer.attributes),
        },
        "rule": {
            "key": notification.rule_key,
            "topic": notification.topic,
            "title": localized(dict(rule.get("title") or {}), language or customer.locale),
        },
        "notification": {"id": notification.id, "reason": notification.reason or ""},
        "now": now,
        "links": links,
    }


TemplateKey = tuple[str, str, str, str, str | None]


@dataclass(frozen=True)
class MessageDraft:
    """A message before rendering: what to render, and the message it goes into."""

    request: RenderRequest
    envelope: OutboundMessage

    def message(self, rendered: RenderedMessage) -> OutboundMessage:
        return replace(
            self.envelope,
            text=rendered.text,
            subject=rendered.subject or "",
            html=rendered.html,
        )


class Composer:
    """Renders a dispatch batch's messages. Templates are looked up first (``prefetch``, in
    the claim's short transaction); rendering then touches no database, so a slow template
    never holds a write lock."""

    def __init__(self, settings: Settings, resolve: Resolve) -> None:
        self.settings = settings
        self._resolve = resolve
        self._templates: dict[TemplateKey, tuple[str, Mapping[str, str]] | NudgeError] = {}

    def prefetch(self, keys: Iterable[TemplateKey]) -> None:
        """Look up these templates now; a template that cannot be found fails its message
        when it is composed, not the batch."""
        for key in keys:
            if key not in self._templates:
                try:
                    self._templates[key] = self._resolve(*key)
                except NudgeError as exc:
                    self._templates[key] = exc

    def resolve(
        self, tenant_id: str, key: str, channel: str, locale: str, default_locale: str | None
    ) -> tuple[str, Mapping[str, str]]:
        """The template for these, as prefetched (looked up now if it was not)."""
        cache_key = (tenant_id, key, channel, locale, default_locale)
        if cache_key not in self._templates:
            self.prefetch([cache_key])
        found = self._templates[cache_key]
        if isinstance(found, NudgeError):
            raise found
        return found

    @staticmethod
    def template_key(
        notification: Notification,
        channel: str,
        customer: Customer,
        tenant: Tenant,
        rule: Mapping[str, Any],
    ) -> TemplateKey:
        """Which template a message of ``notification`` on ``channel`` is written with."""
        key = str(rule.get("template_key") or notification.rule_key)
        return (notification.tenant_id, key, channel, customer.locale, tenant.default_locale)

    def compose(
        self,
        notification: Notification,
        channel: str,
        to: str,
        customer: Customer,
        tenant: Tenant,
        rule: Mapping[str, Any],
        now: datetime,
        attempt: int = 1,
    ) -> OutboundMessage:
        """The rendered message, the ``attempt``-th on ``channel`` (raises a domain error if
        no template fits or it fails)."""
        draft = self.draft(notification, channel, to, customer, tenant, rule, now, attempt)
        r = draft.request
        return draft.message(render(r.parts, r.context, r.locale, r.timezone))

    def draft(
        self,
        notification: Notification,
        channel: str,
        to: str,
        customer: Customer,
        tenant: Tenant,
        rule: Mapping[str, Any],
        now: datetime,
        attempt: int = 1,
    ) -> MessageDraft:
        """Everything of the message but its rendering: what to render and what to wrap it in
        (raises a domain error if no template fits)."""
        links = self._links(notification, customer, channel, now)
        written_in, parts = self.resolve(
            *self.template_key(notification, channel, customer, tenant, rule)
        )
        # One fallback chain decides the words and how values are written in them.
        language = formatting_locale(customer.locale, written_in, tenant.default_locale)
        context = render_context(notification, customer, rule, links, now, language)
        request = RenderRequest(dict(parts), context, language, customer.timezone)
        # The email channel adds List-Unsubscribe-Post (RFC 8058) for https links.
        headers = {"List-Unsubscribe": f"<{links['unsubscribe']}>"} if channel == "email" else {}
        envelope = OutboundMessage(
            notification_id=notification.id,
            attempt=attempt,
            channel=channel,
            tenant_id=notification.tenant_id,
            customer_id=customer.id,
            to=to,
            text="",
            subject="",
            html=None,
            sender=tenant.email_from if channel == "email" else tenant.sms_from,
            locale=language,
            headers=headers,
            gather=channel == "voice",
            confirm=channel == "voice" and notification.requires_ack,
            callback_url=status_callback_url(self.settings, channel),
            gather_url=voice_gather_url(self.settings, channel) if channel == "voice" else None,
        )
        return MessageDraft(request, envelope)

    def _links(
        self, notification: Notification, customer: Customer, channel: str, now: datetime
    ) -> dict[str, str | None]:
        target = Unsubscribe(notification.tenant_id, customer.id, channel, notification.topic)
        ack = (
            ack_url(self.settings, notification.id, now.timestamp())
            if notification.requires_ack
            else None
        )
        return {
            "unsubscribe": unsubscribe_url(self.settings, target),
            "ack": ack,
            # An SMS has no room for a signed token: it carries a short link to the same page.
            "preferences": message_manage_url(self.settings, notification.id)
            if channel == "sms"
            else preferences_url(
                self.settings, notification.tenant_id, customer.id, now.timestamp()
            ),
        }
