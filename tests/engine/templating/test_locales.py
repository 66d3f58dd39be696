"""BCP 47 ↔ Babel conversion and the template locale fallback chain."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.templating import (
    TemplateNotFound,
    choose_language,
    fallback_chain,
    localized,
    resolve_locale,
    to_babel,
    to_bcp47,
)
from engine.templating.locales import babel_locale, normalize_tag


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("de-AT", "de-AT"), ("DE_at", "de-AT"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419")],
)
def test_normalizes_case_and_separators(tag: str, expected: str) -> None:
    assert normalize_tag(tag) == expected


def test_converts_between_bcp47_and_babel() -> None:
    assert to_babel("de-AT") == "de_AT"
    assert to_babel("zh-Hant-TW") == "zh_Hant_TW"
    assert to_bcp47("de_AT") == "de-AT"


@pytest.mark.parametrize("tag", ["", "-", "12-AT"])
def test_rejects_what_is_not_a_language_tag(tag: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_tag(tag)


def test_chain_goes_region_language_tenant_default_english() -> None:
    assert fallback_chain("de-AT", "fr-CH") == ["de-AT", "de", "fr-CH", "fr", "en"]
    assert fallback_chain("en-GB", "en") == ["en-GB", "en"]
    assert fallback_chain("sr-Latn-RS") == ["sr-Latn-RS", "sr-Latn", "sr", "en"]


@pytest.mark.parametrize(
    ("requested", "available", "default", "expected"),
    [
        ("de-AT", {"de-AT", "de", "en"}, None, "de-AT"),
        ("de-AT", {"de", "en"}, None, "de"),
        ("de_at", {"de", "en"}, None, "de"),
        ("it-IT", {"fr", "en", "de"}, "fr", "fr"),
        ("it-IT", {"de", "en"}, "fr", "en"),
        ("nl", {"EN"}, None, "EN"),
    ],
)
def test_resolves_the_best_available_locale(
    requested: str, available: set[str], default: str | None, expected: str
) -> None:
    assert resolve_locale(requested, available, default) == expected


def test_no_locale_in_the_chain_is_not_found() -> None:
    with pytest.raises(TemplateNotFound):
        resolve_locale("it", {"de", "fr"}, "es")


def test_babel_locale_falls_back_to_what_babel_knows() -> None:
    assert str(babel_locale("de-AT")) == "de_AT"
    assert str(babel_locale("de-XX")) == "de"
    assert str(babel_locale("qq-QQ")) == "en"


@pytest.mark.parametrize(
    ("requested", "tenant_default", "template", "formatting"),
    [
        ("de-AT", "en", "de", "de-AT"),  # the customer's region formats the German text
        ("fr-FR", "en", "en", "en"),  # no French text: English words, English numbers
        ("fr-FR", "de-CH", "de", "de-CH"),  # the tenant's default decides both
        ("en-GB", None, "en", "en-GB"),
        ("pt-BR", "pt-PT", "en", "en"),  # neither has templates: the last resort, plainly
    ],
)
def test_one_walk_of_the_chain_decides_text_and_formatting(
    requested: str, tenant_default: str | None, template: str, formatting: str
) -> None:
    language = choose_language(requested, ["de", "en"], tenant_default)
    assert (language.template, language.formatting) == (template, formatting)


def test_localized_titles_follow_the_same_chain() -> None:
    titles = {"en": "Daily use", "de": "Täglicher Verbrauch"}
    assert localized(titles, "de-AT") == "Täglicher Verbrauch"
    assert localized(titles, "fr-FR", "de-CH") == "Täglicher Verbrauch"
    assert localized(titles, "fr-FR") == "Daily use"
    assert localized({"fr": "Consommation"}, "de-DE") == "Consommation"
