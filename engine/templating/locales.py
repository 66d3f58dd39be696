"""Locale tags: BCP 47 (``de-AT``, as the API speaks) ↔ Babel (``de_AT``), and fallback chains."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from engine.errors import InvalidInput
from engine.templating.errors import TemplateNotFound

LAST_RESORT = "en"


def normalize_tag(tag: str) -> str:
    """Canonical BCP 47 casing: ``DE_at`` → ``de-AT``, ``zh-hant-tw`` → ``zh-Hant-TW``."""
    subtags = [s for s in tag.strip().replace("_", "-").split("-") if s]
    if not subtags or not subtags[0].isalpha():
        raise InvalidInput.at(("locale",), f"not a BCP 47 language tag: {tag!r}")
    return "-".join([subtags[0].lower(), *(_case_subtag(s) for s in subtags[1:])])


def _case_subtag(subtag: str) -> str:
    if len(subtag) == 4 and subtag.isalpha():
        return subtag.title()
    if len(subtag) == 2 and subtag.isalpha():
        return subtag.upper()
    return subtag.lower()


def to_babel(tag: str) -> str:
    """``de-AT`` → ``de_AT``."""
    return normalize_tag(tag).replace("-", "_")


def to_bcp47(identifier: str) -> str:
    """``de_AT`` → ``de-AT``."""
    return normalize_tag(identifier)


def truncations(tag: str) -> Iterator[str]:
    """``de-Latn-AT`` → ``de-Latn-AT``, ``de-Latn``, ``de``."""
    subtags = normalize_tag(tag).split("-")
    for end in range(len(subtags), 0, -1):
        yield "-".join(subtags[:end])


def primary_language(tag: str) -> str:
    """``de-Latn-AT`` → ``de``: the last step of ``truncations``."""
    return normalize_tag(tag).split("-")[0]


def fallback_chain(requested: str, tenant_default: str | None = None) -> list[str]:
    """Locales to try, best first: the request and its parents, the tenant default, ``en``."""
    chain: list[str] = []
    for tag in (requested, tenant_default, LAST_RESORT):
        if tag:
            chain.extend(t for t in truncations(tag) if t not in chain)
    return chain


def resolve_locale(
    requested: str, available: Collection[str], tenant_default: str | None = None
) -> str:
    """The first of ``fallback_chain`` that is in ``available`` (as spelled there)."""
    by_tag = {normalize_tag(a): a for a in available}
    for tag in fallback_chain(requested, tenant_default):
        if tag in by_tag:
            return by_tag[tag]
    raise TemplateNotFound(detail=f"no template for locale {requested!r} or its fallbacks")


@dataclass(frozen=True)
class Language:
    """What a message is written in (``template``, as spelled among the templates) and the
    locale its numbers, dates, units and plurals follow (``formatting``): always the same
    language, so an English text never carries French decimal commas."""

    template: str
    formatting: str


@lru_cache(maxsize=1024)  # asked for every message a dispatcher renders
def formatting_locale(requested: str, written_in: str, tenant_default: str | None = None) -> str:
    """The most specific locale of the fallback chain in the language ``written_in``:
    ``de-AT`` for a ``de`` text asked for ``de-AT``; ``en`` for an ``en`` text asked for
    ``fr-FR``; the tenant's ``de-CH`` for a ``de`` text it fell back to."""
    written = normalize_tag(written_in)
    for tag in (requested, tenant_default, LAST_RESORT):
        if tag and written in truncations(tag):
            return normalize_tag(tag)
    return written


def choose_language(
    requested: str, available: Collection[str], tenant_default: str | None = None
) -> Language:
    """One walk of the fallback chain decides the text and its formatting together."""
    template = resolve_locale(requested, available, tenant_default)
    return Language(template, formatting_locale(requested, template, tenant_default))


def localized(texts: Mapping[str, str], locale: str, tenant_default: str | None = None) -> str:
    """The text of ``texts`` (locale → text) for ``locale`` by the fallback chain, else any."""
    try:
        return texts[resolve_locale(locale, texts, tenant_default)]
    except TemplateNotFound:
        return next((text for text in texts.values() if text), "")


@lru_cache(maxsize=256)
def babel_locale(tag: str) -> Locale:
    """The most specific Babel locale for ``tag``, falling back to its parents and ``en``."""
    for candidate in fallback_chain(tag):
        try:
            return Locale.parse(to_babel(candidate))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(LAST_RESORT)
