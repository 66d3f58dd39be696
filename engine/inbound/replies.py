"""Inbound SMS (STOP, START, HELP, OK, free text) and keypad presses during a call."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum

from engine.channels.webhooks import InboundMessage, KeyPress, Spoken
from engine.inbound import messages
from engine.inbound.actions import CustomerActions
from engine.inbound.repository import InboundRepository, PhoneOwner
from engine.models import HistoryKind, Notification
from engine.templating import formatting_locale

log = logging.getLogger("nudge.inbound")


class Keyword(StrEnum):
    stop = "stop"
    start = "start"
    help = "help"
    ack = "ack"


KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), Keyword.stop),
    **dict.fromkeys(("START", "UNSTOP", "YES"), Keyword.start),
    **dict.fromkeys(("HELP", "INFO"), Keyword.help),
    **dict.fromkeys(("OK", "CONFIRM", "1"), Keyword.ack),
}
SMS, VOICE = "sms", "voice"
SMS_SOURCE, KEYPAD_SOURCE = "sms", "keypad"
NEVER = datetime.min.replace(tzinfo=UTC)


def keyword(body: str) -> Keyword | None:
    """The keyword a message is, if it is one (case-insensitive, surrounding blanks ignored)."""
    return KEYWORDS.get(body.strip().upper())


class Replies:
    """Answers to what customers send: keywords by SMS, keys pressed during a call."""

    def __init__(
        self, actions: CustomerActions, repo: InboundRepository, default_sender: str | None
    ) -> None:
        self.actions = actions
        self._repo = repo
        self.default_sender = default_sender

    def sms(self, message: InboundMessage) -> str | None:
        """Act on an inbound SMS; the text to answer with, if any."""
        owners = self._owners(message)
        if not owners:
            log.info("inbound SMS from an unknown number")
            return None
        match keyword(message.body):
            case Keyword.stop:
                return self._stop(owners)
            case Keyword.start:
                return self._start(owners)
            case Keyword.help:
                return self._help(self._primary(owners), message)
            case Keyword.ack:
                return self._ack(owners, message)
            case None:
                self._store_reply(self._primary(owners), message)
                return None

    def _owners(self, message: InboundMessage) -> list[PhoneOwner]:
        """Customers with this phone; those of the tenant the message was sent to, if known."""
        owners = self._repo.phone_owners(message.sender.strip())
        addressed = [o for o in owners if self._sender_of(o) == message.recipient.strip()]
        return addressed or owners

    def _sender_of(self, owner: PhoneOwner) -> str | None:
        return owner.tenant.sms_from or self.default_sender

    def _primary(self, owners: list[PhoneOwner]) -> PhoneOwner:
        """Of several owners, the one we last texted (the first one if none)."""
        if len(owners) == 1:
            return owners[0]
        return max(owners, key=lambda o: self._last_sms_at(o.customer.id))

    def _last_sms_at(self, customer_id: str) -> datetime:
        last = self._repo.last_attempt_on(customer_id, SMS)
        return NEVER if last is None else last[0].started_at

    def _stop(self, owners: list[PhoneOwner]) -> str | None:
        changed = False
        for owner in owners:
            tenant_id, customer_id = owner.tenant.id, owner.customer.id
            changed |= self.actions.revoke_channel(tenant_id, customer_id, SMS, SMS_SOURCE)
        # Carriers allow one confirmation after STOP; a repeated STOP stays unanswered.
        return self._to_all(owners, "sms.stopped") if changed else None

    def _start(self, owners: list[PhoneOwner]) -> str:
        for owner in owners:
            self.actions.restore_channel(owner.tenant.id, owner.customer.id, SMS, SMS_SOURCE)
        return self._to_all(owners, "sms.started")

    def _to_all(self, owners: list[PhoneOwner], key: str) -> str:
        names = ", ".join(dict.fromkeys(o.tenant.name for o in owners))
        return messages.text(key, _language(self._primary(owners)), tenant=names)

    def _help(self, owner: PhoneOwner, message: InboundMessage) -> str:
        self._record(owner, message, None, "asked for help by SMS", {"keyword": "help"})
        if owner.tenant.help_text:
            return owner.tenant.help_text
        return messages.text("sms.help", _language(owner), tenant=owner.tenant.name)

    def _ack(self, owners: list[PhoneOwner], message: InboundMessage) -> str | None:
        found = self._awaiting_ack(owners)
        if found is None:
            self._store_reply(self._primary(owners), message)
            return None
        owner, notification = found
        self.actions.acknowledge(notification, "sms", self.actions.clock.now())
        return messages.text("sms.confirmed", _language(owner), tenant=owner.tenant.name)

    def _awaiting_ack(self, owners: list[PhoneOwner]) -> tuple[PhoneOwner, Notification] | None:
        """The most recently sent notification, of any owner, that waits for confirmation."""
        found = [(o, n) for o in owners if (n := self._repo.awaiting_ack(o.customer.id))]
        return max(found, key=lambda pair: pair[1].sent_at or NEVER, default=None)

    def _store_reply(self, owner: PhoneOwner, message: InboundMessage) -> None:
        last = self._repo.last_attempt_on(owner.customer.id, SMS)
        notification_id = None if last is None else last[1].id
        self._record(owner, message, notification_id, f"SMS reply: {message.body.strip()}", {})

    def _record(
        self,
        owner: PhoneOwner,
        message: InboundMessage,
        notification_id: str | None,
        summary: str,
        data: dict[str, object],
    ) -> None:
        self.actions.history.record(
            owner.tenant.id,
            owner.customer.id,
            HistoryKind.reply,
            summary,
            # The history API names the provider's message id "message_sid"; readers rely on it.
            {"body": message.body, "message_sid": message.message_id, **data},
            channel=SMS,
            notification_id=notification_id,
        )

    def keypad(self, press: KeyPress) -> Spoken | None:
        """Act on a key pressed during our call; what to say before hanging up."""
        attempt = self._repo.attempt_by_provider_id(press.call_id)
        notification = None if attempt is None else self._repo.notification(attempt.notification_id)
        customer = None if notification is None else self._repo.customer(notification.customer_id)
        tenant = None if customer is None else self._repo.tenant(customer.tenant_id)
        if notification is None or customer is None or tenant is None:
            log.info("keypad answer for an unknown call")
            return None
        key = self._press(notification, press.digits.strip())
        written_in = messages.language(customer.locale, tenant.default_locale)
        speaks = formatting_locale(customer.locale, written_in, tenant.default_locale)
        return Spoken(messages.text(key, speaks, tenant=tenant.name), speaks)

    def _press(self, notification: Notification, digits: str) -> str:
        if digits == "1" and notification.requires_ack:
            self.actions.acknowledge(notification, "keypad", self.actions.clock.now())
            return "voice.confirmed"
        tenant_id, customer_id = notification.tenant_id, notification.customer_id
        if digits == "9":
            self.actions.revoke_channel(tenant_id, customer_id, VOICE, KEYPAD_SOURCE)
            return "voice.stopped"
        self.actions.history.record(
            tenant_id,
            customer_id,
            HistoryKind.keypress,
            f"pressed {digits or 'nothing'} during the call",
            {"digits": digits},
            channel=VOICE,
            notification_id=notification.id,
        )
        return "voice.other"


def _language(owner: PhoneOwner) -> str:
    """Answers are in the language the owner's messages are written in."""
    return messages.language(owner.customer.locale, owner.tenant.default_locale)
