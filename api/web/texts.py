"""Every text on the pages, in German and English; a page asks by key."""

from __future__ import annotations

from api.web.texts_de import DE
from api.web.texts_en import EN

LANGUAGES = ("de", "en")
DEFAULT = "en"

TEXTS = {"en": EN, "de": DE}


def language_of(tag: str | None) -> str | None:
    """The page language for a BCP 47 tag (``de-AT`` → ``de``), or None if we have none."""
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in TEXTS else None


def text(lang: str, key: str, **values: object) -> str:
    found = TEXTS.get(lang, EN).get(key) or EN.get(key, key)
    return found.format(**values) if values else found
