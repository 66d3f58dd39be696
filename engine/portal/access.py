"""Getting into the customer's page: signed manage links, one-time sign-in links by email or
SMS, and the sign-ins they open. The page's session itself lives in the web layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from engine.channels.base import OutboundMessage
from engine.consent.service import ConsentService
from engine.customers.service import CustomerService
from engine.delivery.links import (
    MANAGE_TTL_S,
    Manage,
    manage_token,
    manage_url,
    read_manage,
    read_message_code,
)
from engine.delivery.planner import ADDRESS_KIND
from engine.errors import Unauthorized
from engine.history.service import HistoryService
from engine.models import ContactKind, Customer, HistoryKind, Tenant
from engine.platform.clock import Clock
from engine.platform.config import Settings
from engine.platform.ids import new_id
from engine.platform.validation import check_email, check_phone
from engine.portal import letters
from engine.portal.repository import SIGN_IN, PortalRepository
from engine.tenants.service import TenantService

ONCE_TTL_S = 15 * 60
WEB = "web"  # where what happens here comes from, in the history
LETTER_CHANNELS = ("email", "sms")


class LinkState(StrEnum):
    ok = "ok"
    expired = "expired"
    used = "used"
    invalid = "invalid"


@dataclass(frozen=True)
class LinkCheck:
    """What a manage link leads to; an expired or used link still names whose it was."""

    state: LinkState
    claims: Manage | None = None
    customer: Customer | None = None
    tenant: Tenant | None = None


@dataclass(frozen=True)
class Address:
    kind: ContactKind
    value: str


def parse_address(text: str) -> Address | None:
    """An email address or an E.164 phone number as typed (spaces allowed), else None."""
    text = text.strip()
    try:
        if "@" in text:
            return Address(ContactKind.email, check_email(text))
        return Address(ContactKind.phone, check_phone("".join(text.split())))
    except ValueError:
        return None


class PortalAccess:
    def __init__(
        self,
        repo: PortalRepository,
        customers: CustomerService,
        tenants: TenantService,
        consent: ConsentService,
        history: HistoryService,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self.customers = customers
        self.tenants = tenants
        self.consent = consent
        self.history = history
        self.settings = settings
        self.clock = clock

    def mint(self, customer: Customer, ttl_s: int | None = None) -> tuple[str, datetime]:
        """A manage link for the business to hand out, and when it expires."""
        now = self.clock.now().timestamp()
        ttl = ttl_s or self.settings.customer_token_ttl_seconds
        token = manage_token(self.settings, customer.tenant_id, customer.id, now, ttl_s=ttl)
        return manage_url(self.settings, token), datetime.fromtimestamp(int(now + ttl), UTC)

    def token_for_message(self, code: str) -> str | None:
        """A manage token for the customer a message's short link names (as long as the
        message is at most 30 days old); None for a link nudge did not make or has let go."""
        try:
            notification_id = read_message_code(self.settings, code)
        except Unauthorized:
            return None
        found = self._repo.message_recipient(notification_id)
        now = self.clock.now()
        if found is None or now - found[2] > timedelta(seconds=MANAGE_TTL_S):
            return None
        tenant_id, customer_id, _ = found
        return manage_token(self.settings, tenant_id, customer_id, now.timestamp())

    def check(self, token: str) -> LinkCheck:
        """Whether ``token`` opens a page now; changes nothing (mail scanners follow links)."""
        now = self.clock.now()
        try:
            claims = read_manage(self.settings, token, now.timestamp())
        except Unauthorized:
            return LinkCheck(LinkState.invalid)
        customer = self.customers.find(claims.tenant_id, claims.customer_id)
        tenant = self.tenants.find(claims.tenant_id)
        if customer is None or tenant is None:
            return LinkCheck(LinkState.invalid)
        state = LinkState.expired if claims.expired else LinkState.ok
        if state is LinkState.ok and claims.once and self._used(claims):
            state = LinkState.used
        return LinkCheck(state, claims, customer, tenant)

    def sign_in(self, check: LinkCheck) -> Customer:
        """Open a session from a valid link: recorded, and a one-time link is spent."""
        if check.state is not LinkState.ok or check.customer is None or check.claims is None:
            raise Unauthorized("this link does not open a page")
        customer, claims = check.customer, check.claims
        self.history.record(
            customer.tenant_id,
            customer.id,
            HistoryKind.profile,
            "signed in on the web page",
            {
                "event": SIGN_IN,
                "once": claims.once,
                "link_issued_at": claims.issued_at,
                "source": WEB,
            },
        )
        return customer

    def letters_for_address(self, text: str) -> list[OutboundMessage]:
        """One-time sign-in links for every customer at this address; none if unknown."""
        address = parse_address(text)
        if address is None:
            return []
        letters = []
        for customer in self._repo.customers_at(address.kind, address.value):
            stored = self.customers.contact_points(customer.id).get(address.kind)
            letter = (
                self._letter(customer, Address(address.kind, stored.address)) if stored else None
            )
            if letter is not None:
                letters.append(letter)
        return letters

    def letter_for(self, customer: Customer) -> OutboundMessage | None:
        """A fresh one-time link on the customer's first consented channel (expired links)."""
        contacts = self.customers.contact_points(customer.id)
        for channel in LETTER_CHANNELS:
            point = contacts.get(ContactKind(ADDRESS_KIND[channel]))
            if point is not None:
                letter = self._letter(customer, Address(point.kind, point.address))
                if letter is not None:
                    return letter
        return None

    def _letter(self, customer: Customer, address: Address) -> OutboundMessage | None:
        channel = "email" if address.kind == ContactKind.email else "sms"
        tenant = self.tenants.find(customer.tenant_id)
        if tenant is None or not self._consented(customer.id, channel):
            return None
        now = self.clock.now().timestamp()
        token = manage_token(
            self.settings, customer.tenant_id, customer.id, now, ttl_s=ONCE_TTL_S, once=True
        )
        url = manage_url(self.settings, token)
        minutes = ONCE_TTL_S // 60
        self.history.record(
            customer.tenant_id,
            customer.id,
            HistoryKind.message,
            f"sign-in link sent by {channel}",
            {"event": "sign-in link", "channel": channel, "source": WEB},
            channel=channel,
        )
        return OutboundMessage(
            notification_id=new_id("sgn"),
            attempt=1,
            channel=channel,
            tenant_id=customer.tenant_id,
            customer_id=customer.id,
            to=address.value,
            text=letters.body(channel, customer.locale, tenant.name, url, minutes),
            subject=letters.subject(customer.locale, tenant.name),
            sender=tenant.email_from if channel == "email" else tenant.sms_from,
            locale=customer.locale,
        )

    def _consented(self, customer_id: str, channel: str) -> bool:
        """Any consent on the channel: a sign-in link is a service message about all topics."""
        return any(c.granted for c in self.consent.list(customer_id) if c.channel == channel)

    def _used(self, claims: Manage) -> bool:
        since = datetime.fromtimestamp(claims.issued_at, UTC)
        return claims.issued_at in self._repo.sign_in_links_since(claims.customer_id, since)
