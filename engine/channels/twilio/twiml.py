"""TwiML: our calls (the message spoken in the customer's language, optional keypad) and the
answers to Twilio's webhooks."""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from engine.channels.base import OutboundMessage, PermanentChannelError
from engine.channels.webhooks import Spoken
from engine.errors import InvalidInput
from engine.templating.locales import (
    fallback_chain,
    primary_language,
    resolve_locale,
    truncations,
)

# Languages every Twilio <Say> voice speaks (regional variants like de-AT are not among them).
SAY_LANGUAGES = frozenset(
    {
        "ca-ES", "da-DK", "de-DE", "en-AU", "en-CA", "en-GB", "en-IN", "en-US", "es-ES",
        "es-MX", "fi-FI", "fr-CA", "fr-FR", "it-IT", "ja-JP", "ko-KR", "nb-NO", "nl-NL",
        "pl-PL", "pt-BR", "pt-PT", "ru-RU", "sv-SE", "zh-CN", "zh-HK", "zh-TW",
    }
)  # fmt: skip
# Where a language has several regional voices, the one a bare language tag gets.
DEFAULT_REGION = {
    "ca": "ca-ES", "da": "da-DK", "de": "de-DE", "en": "en-US", "es": "es-ES", "fi": "fi-FI",
    "fr": "fr-FR", "it": "it-IT", "ja": "ja-JP", "ko": "ko-KR", "nb": "nb-NO", "no": "nb-NO",
    "nn": "nb-NO", "nl": "nl-NL", "pl": "pl-PL", "pt": "pt-BR", "ru": "ru-RU", "sv": "sv-SE",
    "zh": "zh-CN",
}  # fmt: skip
# Regions without a voice of their own that sound closer to a neighbour than to the default.
NEAREST_REGION = {"en-IE": "en-GB", "en-NZ": "en-AU", "en-ZA": "en-GB", "es-US": "es-MX"}
FALLBACK_LANGUAGE = "en-US"
TWIML_LIMIT = 4000
# The keypad sentence said after the message: 1 confirms (when the rule asks for it), 9 stops.
CONFIRM_PROMPTS = {
    "de": "Drücken Sie die 1 zum Bestätigen. Drücken Sie die 9, um diese Anrufe zu beenden.",
    "en": "Press 1 to confirm. Press 9 to stop these calls.",
    "es": "Pulse 1 para confirmar. Pulse 9 para dejar de recibir estas llamadas.",
    "fr": "Appuyez sur 1 pour confirmer. Appuyez sur 9 pour ne plus recevoir ces appels.",
    "it": "Premi 1 per confermare. Premi 9 per non ricevere più queste chiamate.",
    "nl": "Druk op 1 om te bevestigen. Druk op 9 om deze oproepen te stoppen.",
}
STOP_PROMPTS = {
    "de": "Drücken Sie die 9, um diese Anrufe zu beenden.",
    "en": "Press 9 to stop these calls.",
    "es": "Pulse 9 para dejar de recibir estas llamadas.",
    "fr": "Appuyez sur 9 pour ne plus recevoir ces appels.",
    "it": "Premi 9 per non ricevere più queste chiamate.",
    "nl": "Druk op 9 om deze oproepen te stoppen.",
}
# Said when no key is pressed before the call ends.
GOODBYES = {
    "de": "Auf Wiederhören.",
    "en": "Goodbye.",
    "es": "Adiós.",
    "fr": "Au revoir.",
    "it": "Arrivederci.",
    "nl": "Tot ziens.",
}


def say_language(locale: str) -> str:
    """Map a BCP 47 tag (`de-at`, `de_AT`, `pt`) to a language Twilio can speak: the first
    step of the locale fallback chain (`de-AT` → `de` → `en`) that has a voice."""
    try:
        chain = fallback_chain(locale)
    except InvalidInput:
        return FALLBACK_LANGUAGE
    return next((v for v in map(_voice, chain) if v is not None), FALLBACK_LANGUAGE)


def _voice(tag: str) -> str | None:
    """The voice for one normalized tag; script subtags (`zh-Hant-TW`) play no part."""
    language, *rest = tag.split("-")
    regions = [part for part in rest if len(part) == 2 or part.isdigit()]
    key = f"{language}-{regions[0]}" if regions else language
    if key in SAY_LANGUAGES:
        return key
    return NEAREST_REGION.get(key) or DEFAULT_REGION.get(key)


def spoken_language(spoken: Spoken) -> str:
    """The voice for an answer: one speaking the answer's language, or English."""
    voice = say_language(spoken.locale)
    try:
        same = primary_language(voice) == primary_language(spoken.locale)
    except InvalidInput:
        same = False
    return voice if same else FALLBACK_LANGUAGE


def keypad_prompt(language: str, *, confirm: bool = False) -> tuple[str, str]:
    """The "press 9" sentence ("press 1 / press 9" with ``confirm``) and the language it is in
    (English if untranslated)."""
    return _translated(CONFIRM_PROMPTS if confirm else STOP_PROMPTS, language)


def goodbye(language: str) -> tuple[str, str]:
    return _translated(GOODBYES, language)


def _translated(texts: dict[str, str], language: str) -> tuple[str, str]:
    """The text for a voice language by the locale fallback chain; an English text is said by
    an English voice."""
    written = resolve_locale(language, texts)
    return texts[written], language if written in truncations(language) else FALLBACK_LANGUAGE


def build_twiml(
    text: str, locale: str, gather_url: str | None = None, *, confirm: bool = False
) -> str:
    """`<Say>` the text; with `gather_url`, inside a one-digit `<Gather>` that posts there,
    followed by the keypad prompt (offering 1 to confirm only with ``confirm``) and, for when
    no key comes, a goodbye."""
    language = say_language(locale)
    response = VoiceResponse()
    if gather_url is None:
        response.say(text, language=language)
        return str(response)
    gather = Gather(num_digits=1, action=gather_url, method="POST", timeout=8)
    gather.say(text, language=language)
    prompt, prompt_language = keypad_prompt(language, confirm=confirm)
    gather.say(prompt, language=prompt_language)
    response.append(gather)
    farewell, farewell_language = goodbye(language)
    response.say(farewell, language=farewell_language)
    return str(response)


def voice_twiml(message: OutboundMessage) -> str:
    """The call's TwiML; a keypad prompt needs somewhere to post the digit."""
    if message.gather and not message.gather_url:
        raise PermanentChannelError("gather needs a gather_url for the keypad answer")
    gather_url = message.gather_url if message.gather else None
    twiml = build_twiml(message.text, message.locale, gather_url, confirm=message.confirm)
    if len(twiml) > TWIML_LIMIT:
        raise PermanentChannelError(f"TwiML has {len(twiml)} characters, Twilio allows 4000")
    return twiml


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
        response.say(spoken.text, language=spoken_language(spoken))
    response.hangup()
    return str(response)
