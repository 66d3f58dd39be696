"""Choosing the template a message is sent with: the tenant's own over the defaults, along
the locale chain de-AT → de → tenant default → en, with one query at most."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from engine.message_templates.defaults import DefaultTemplates, default_templates
from engine.message_templates.repository import TemplateRepository
from engine.message_templates.service import TemplateService
from engine.processes.runtime import Runtime
from engine.templating import TemplateNotFound, load_default_templates
from tests.fixtures.api import Api

KEY = "energy.daily_above"
TENANT_DE = {"text": "Mandant: {{ window.sum|kwh }}"}


@pytest.fixture
def tenant_id(api: Api) -> str:
    tenant = api.tenant()
    body = {"key": KEY, "channel": "sms", "locale": "de", "parts": TENANT_DE}
    api.ok("POST", "/v1/templates", tenant.ops, 201, json=body)
    return tenant.id


@contextmanager
def counted_queries(runtime: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(runtime.db, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(runtime.db, "before_cursor_execute", record)


def resolve(runtime: Runtime, *args: Any) -> tuple[str, dict[str, str]]:
    with runtime.services() as services:
        return services.templates.resolve(*args)


def test_a_regional_locale_uses_the_tenants_language_template(
    runtime: Runtime, tenant_id: str
) -> None:
    assert resolve(runtime, tenant_id, KEY, "sms", "de-AT", "de-DE") == ("de", TENANT_DE)


def test_a_locale_without_a_template_falls_back_to_the_defaults(
    runtime: Runtime, tenant_id: str
) -> None:
    defaults = default_templates()
    for locale, default_locale in (("fr-FR", "en"), ("en-GB", "de")):
        used, parts = resolve(runtime, tenant_id, KEY, "sms", locale, default_locale)
        assert (used, parts) == ("en", defaults[(KEY, "sms", "en")])
    email = resolve(runtime, tenant_id, KEY, "email", "de-AT", None)
    assert email == ("de", defaults[(KEY, "email", "de")])


def test_the_tenant_default_locale_comes_before_english(runtime: Runtime, tenant_id: str) -> None:
    assert resolve(runtime, tenant_id, KEY, "sms", "fr", "de-CH") == ("de", TENANT_DE)


def test_another_tenants_templates_are_never_chosen(
    runtime: Runtime, tenant_id: str, api: Api
) -> None:
    other = api.tenant("Other").id
    used, parts = resolve(runtime, other, KEY, "sms", "de-AT", "de")
    assert (used, parts) == ("de", default_templates()[(KEY, "sms", "de")])
    with pytest.raises(TemplateNotFound):
        resolve(runtime, other, "custom.only_mine", "sms", "de", "de")


def test_resolve_runs_one_query(runtime: Runtime, tenant_id: str) -> None:
    with runtime.services() as services, counted_queries(runtime) as statements:
        services.templates.resolve(tenant_id, KEY, "sms", "de-AT", "de")
        services.templates.resolve(tenant_id, KEY, "voice", "en", "de")
    queries = [s for s in statements if not s.startswith("BEGIN")]
    assert len(queries) == 2 and all("FROM templates" in q for q in queries)


def test_defaults_load_once_and_come_from_the_configured_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_templates() is default_templates()
    (tmp_path / "custom.alert").mkdir()
    (tmp_path / "custom.alert" / "voice.en.text.j2").write_text("Hello {{ customer.name }}")
    monkeypatch.setenv("NUDGE_TEMPLATES_DIR", str(tmp_path))
    assert list(default_templates()) == [("custom.alert", "voice", "en")]


def custom_defaults(directory: Path) -> DefaultTemplates:
    (directory / "custom.alert").mkdir()
    (directory / "custom.alert" / "voice.fr.text.j2").write_text("Bonjour")
    return DefaultTemplates(load_default_templates(directory))


def test_defaults_are_indexed_by_key_and_channel(tmp_path: Path) -> None:
    defaults = custom_defaults(tmp_path)
    assert defaults.variants("custom.alert", "voice") == {"fr": {"text": "Bonjour"}}
    assert defaults.variants("custom.alert", "sms") == {}


@pytest.mark.parametrize("locale", ["fr-CA", "de"])
def test_a_service_resolves_from_the_defaults_it_was_given(
    runtime: Runtime, locale: str, tmp_path: Path
) -> None:
    defaults = custom_defaults(tmp_path)
    with runtime.services() as services:
        templates = TemplateService(TemplateRepository(services.session), runtime.clock, defaults)
        resolved = templates.resolve("ten_none", "custom.alert", "voice", locale, "fr")
    assert resolved == ("fr", {"text": "Bonjour"})
