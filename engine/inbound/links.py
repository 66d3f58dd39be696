"""The signed links in messages: one-click unsubscribe (RFC 8058) and acknowledgement."""

from __future__ import annotations

from dataclasses import dataclass

from engine.delivery.links import Unsubscribe, read_ack, read_unsubscribe
from engine.errors import Forbidden, NotFound, Unauthorized
from engine.inbound import messages
from engine.inbound.actions import CustomerActions
from engine.inbound.repository import InboundRepository
from engine.models import Customer, Notification, Tenant
from engine.platform.config import Settings

ONE_CLICK_SOURCE = "one-click unsubscribe"
INVALID = "this link is invalid or has expired"
GONE = "this link no longer leads anywhere"


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """Whom a link is about, for the page that answers it."""

    tenant: str
    locale: str
    channel: str = ""
    topic: str = ""
    tenant_id: str = ""


class Links:
    """What the signed links in messages show and do."""

    def __init__(
        self, actions: CustomerActions, repo: InboundRepository, settings: Settings
    ) -> None:
        self.actions = actions
        self._repo = repo
        self.settings = settings

    def unsubscribe_target(self, token: str) -> LinkTarget:
        """What an unsubscribe link would stop; changes nothing (scanners follow links)."""
        claims = self._unsubscribe_claims(token)
        customer, tenant = self._party(claims.tenant_id, claims.customer_id)
        return _target(tenant, customer, claims.channel, claims.topic)

    def unsubscribe(self, token: str) -> LinkTarget:
        """Revoke the channel and topic the link names (RFC 8058 one-click)."""
        claims = self._unsubscribe_claims(token)
        customer, tenant = self._party(claims.tenant_id, claims.customer_id)
        self.actions.consent.set(
            tenant.id, customer.id, claims.channel, claims.topic, False, ONE_CLICK_SOURCE
        )
        return _target(tenant, customer, claims.channel, claims.topic)

    def ack_target(self, token: str) -> LinkTarget:
        """Whom an acknowledgement link would answer; changes nothing (scanners follow links)."""
        _, target = self._ack_claims(token)
        return target

    def acknowledge(self, token: str) -> LinkTarget:
        """Acknowledge the notification an email's link names."""
        notification, target = self._ack_claims(token)
        self.actions.acknowledge(notification, "email link", self.actions.clock.now())
        return target

    def _ack_claims(self, token: str) -> tuple[Notification, LinkTarget]:
        try:
            notification_id = read_ack(self.settings, token, self.actions.clock.now().timestamp())
        except Unauthorized as exc:
            raise Forbidden(INVALID) from exc
        notification = self._repo.notification(notification_id)
        if notification is None:
            raise NotFound(GONE)
        customer, tenant = self._party(notification.tenant_id, notification.customer_id)
        return notification, _target(tenant, customer)

    def _unsubscribe_claims(self, token: str) -> Unsubscribe:
        try:
            return read_unsubscribe(self.settings, token, self.actions.clock.now().timestamp())
        except Unauthorized as exc:
            raise Forbidden(INVALID) from exc

    def _party(self, tenant_id: str, customer_id: str) -> tuple[Customer, Tenant]:
        customer = self._repo.customer(customer_id)
        tenant = self._repo.tenant(tenant_id)
        if customer is None or tenant is None or customer.tenant_id != tenant.id:
            raise NotFound(GONE)
        return customer, tenant


def _target(tenant: Tenant, customer: Customer, channel: str = "", topic: str = "") -> LinkTarget:
    """The page speaks the language the customer's messages are written in."""
    locale = messages.language(customer.locale, tenant.default_locale)
    return LinkTarget(tenant.name, locale, channel, topic, tenant.id)
