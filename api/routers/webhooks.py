"""Twilio's webhooks: delivery status callbacks, inbound SMS and keypad answers (signed)."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from api.deps import ServicesDep, get_runtime
from engine.errors import Forbidden
from engine.inbound.replies import InboundSms
from engine.inbound.twiml import message_twiml, say_twiml
from engine.platform.config import Settings

router = APIRouter(prefix="/v1/webhooks/twilio", tags=["webhooks"])
log = logging.getLogger("nudge.webhooks")

TWIML = "application/xml"
SIGNATURE = "X-Twilio-Signature"
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "Missing or invalid X-Twilio-Signature"}
}


def public_url(settings: Settings, request: Request) -> str:
    """The URL Twilio called, as it signed it (our public address, not the proxy's)."""
    url = settings.public_base_url.rstrip("/") + request.url.path
    return f"{url}?{request.url.query}" if request.url.query else url


async def signed_params(request: Request) -> dict[str, str]:
    """The form Twilio posted, once its signature checks out; 403 otherwise."""
    settings = get_runtime(request).settings
    if settings.twilio_auth_token is None:
        raise Forbidden("Twilio webhooks are disabled: no auth token is configured")
    pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    signature = request.headers.get(SIGNATURE, "")
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    if not signature or not validator.validate(
        public_url(settings, request), MultiDict(pairs), signature
    ):
        raise Forbidden(f"missing or invalid {SIGNATURE}")
    return dict(pairs)


TwilioParams = Annotated[dict[str, str], Depends(signed_params)]


def _twiml(body: str) -> Response:
    return Response(body, media_type=TWIML)


def _first(params: dict[str, str], *names: str) -> str:
    return next((params[n] for n in names if params.get(n)), "")


@router.post("/status", response_class=Response, responses=FORBIDDEN)
def status_callback(params: TwilioParams, services: ServicesDep) -> Response:
    """A message's or call's delivery status (``MessageStatus`` / ``CallStatus``)."""
    sid = _first(params, "MessageSid", "SmsSid", "CallSid")
    status = _first(params, "MessageStatus", "SmsStatus", "CallStatus")
    if sid and status:
        services.inbound.provider_status(sid, status, params.get("ErrorCode") or None)
    else:
        log.warning("status callback without a sid or status")
    return _twiml(message_twiml(None))


@router.post("/inbound", response_class=Response, responses=FORBIDDEN)
def inbound_sms(params: TwilioParams, services: ServicesDep) -> Response:
    """An SMS from a customer: STOP/START/HELP/OK or a reply for the history."""
    message = InboundSms(
        sender=params.get("From", ""),
        recipient=params.get("To", ""),
        body=params.get("Body", ""),
        message_sid=params.get("MessageSid", ""),
    )
    return _twiml(message_twiml(services.inbound.replies.sms(message)))


@router.post("/voice", response_class=Response, responses=FORBIDDEN)
def voice_keypad(params: TwilioParams, services: ServicesDep) -> Response:
    """The key a customer pressed during our call: 1 confirms, 9 stops calls."""
    spoken = services.inbound.replies.keypad(params.get("CallSid", ""), params.get("Digits", ""))
    return _twiml(say_twiml(spoken))
