"""TwiML answers to Twilio's webhooks."""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from engine.inbound.replies import Spoken


def message_twiml(text: str | None) -> str:
    """``<Response><Message>text</Message></Response>``, or an empty ``<Response/>``."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


def say_twiml(spoken: Spoken | None) -> str:
    """Say the answer (if any) in its language, then hang up."""
    response = VoiceResponse()
    if spoken is not None:
        response.say(spoken.text, language=spoken.language)
    response.hangup()
    return str(response)
