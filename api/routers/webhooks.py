"""Providers' webhooks (signed): delivery status callbacks, inbound SMS and keypad answers.

Each installed provider (`nudge.webhooks` entry points) gets the same three routes under
``/v1/webhooks/{provider}``; the provider checks the signature, reads its fields and writes
its answers, the inbound service acts on what they mean.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from api.deps import InboundServiceDep, get_runtime
from engine.channels.registry import available_webhook_providers
from engine.channels.webhooks import WebhookProvider
from engine.platform.config import Settings

log = logging.getLogger("nudge.webhooks")
NUL, REPLACEMENT = "\x00", "\ufffd"


def public_url(settings: Settings, request: Request) -> str:
    """The URL the provider called, as it signed it (our public address, not the proxy's)."""
    url = settings.public_base_url.rstrip("/") + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


def readable(form: dict[str, str]) -> dict[str, str]:
    """A signed form with U+0000 written as U+FFFD, once its signature (over what was sent)
    checked out. What a phone sent is data: a reply holding NUL is kept, the same on both
    databases (PostgreSQL cannot store the character), and answered 2xx: a provider retries
    any other answer, and a refused request would be refused every time."""
    return {
        name.replace(NUL, REPLACEMENT): value.replace(NUL, REPLACEMENT)
        for name, value in form.items()
    }


@dataclass(frozen=True, slots=True)
class Signed:
    """A request whose signature checked out: its provider and the form it posted."""

    provider: WebhookProvider
    form: dict[str, str]

    def answer(self, body: str) -> Response:
        return Response(body, media_type=self.provider.media_type)


def provider_router(provider_class: type[WebhookProvider]) -> APIRouter:
    """The status, inbound and voice routes of one provider."""
    routes = APIRouter(prefix=f"/v1/webhooks/{provider_class.name}", tags=["webhooks"])
    refused: dict[int | str, dict[str, Any]] = {
        403: {"description": f"Missing or invalid {provider_class.signature_header}"}
    }

    async def verify(request: Request) -> Signed:
        """The posted form, once its signature checks out; 403 otherwise."""
        settings = get_runtime(request).settings
        provider = provider_class.from_settings(settings)
        url = public_url(settings, request)
        form = provider.verified_form(url, await request.body(), request.headers)
        return Signed(provider, readable(form))

    # A default rather than an `Annotated` alias: annotations here are resolved as module names.
    # Signed comes first, so a refused request never opens a unit of work.
    verified = Depends(verify)

    @routes.post("/status", response_class=Response, responses=refused)
    def status_callback(*, signed: Signed = verified, inbound: InboundServiceDep) -> Response:
        """A message's or call's delivery status."""
        update = signed.provider.status_update(signed.form)
        if update is not None:
            inbound.provider_status(update, signed.provider.statuses)
        else:
            log.warning("status callback without an id or a status")
        return signed.answer(signed.provider.status_answer())

    @routes.post("/inbound", response_class=Response, responses=refused)
    def inbound_sms(*, signed: Signed = verified, inbound: InboundServiceDep) -> Response:
        """An SMS from a customer: STOP/START/HELP/OK or a reply for the history."""
        message = signed.provider.inbound_message(signed.form)
        return signed.answer(signed.provider.message_answer(inbound.replies.sms(message)))

    @routes.post("/voice", response_class=Response, responses=refused)
    def voice_keypad(*, signed: Signed = verified, inbound: InboundServiceDep) -> Response:
        """The key a customer pressed during our call: 1 confirms, 9 stops calls."""
        spoken = inbound.replies.keypad(signed.provider.key_press(signed.form))
        return signed.answer(signed.provider.call_answer(spoken))

    return routes


router = APIRouter()
for _provider in available_webhook_providers().values():
    router.include_router(provider_router(_provider))
