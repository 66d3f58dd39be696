"""The template store: upsert by tenant, key, channel and locale on both backends."""

from __future__ import annotations

from engine.message_templates.repository import TemplateRepository
from engine.processes.runtime import Runtime
from tests.fixtures.api import Api


def test_upsert_inserts_then_replaces_the_parts(api: Api, runtime: Runtime) -> None:
    tenant = api.tenant().id
    args = (tenant, "custom.alert", "sms", "de")
    with runtime.services() as services:
        repo = TemplateRepository(services.session)
        first = repo.upsert(*args, {"text": "eins"}, runtime.clock.now())
        second = repo.upsert(*args, {"text": "zwei"}, runtime.clock.now())
        assert second.id == first.id
        assert repo.insert(*args, {"text": "drei"}, runtime.clock.now()) is None
    with runtime.services() as services:
        repo = TemplateRepository(services.session)
        assert repo.variants(tenant, "custom.alert", "sms") == {"de": {"text": "zwei"}}
        assert [t.locale for t in repo.for_key(tenant, "custom.alert")] == ["de"]
        assert repo.all("ten_other") == []
