"""Saving a template renders its sample to check it; that rendering holds no write lock (another
connection can take SQLite's write lock meanwhile), and an edit stored while it renders is
kept: the parts are merged again onto it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update

import engine.message_templates.service
from engine.models import Template
from engine.platform.db import unit_of_work
from tests.api.conftest import FrozenApi
from tests.api.test_reading_posts_hold_no_write_lock import _watch
from tests.api.test_templates_api import EMAIL_EN, create
from tests.engine.evaluation.test_evaluation_outside_write_lock import _can_write

JOIN_S = 10.0


def test_creating_and_changing_a_template_render_under_no_write_lock(
    frozen: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = frozen.api
    tenant = api.tenant()
    writable: list[bool] = []
    hook = lambda: writable.append(_can_write(frozen.runtime, tenant.id))  # noqa: E731
    _watch(monkeypatch, engine.message_templates.service, "validate", hook)
    create(api, tenant, EMAIL_EN)
    patch = {"channel": "email", "locale": "en", "parts": {"subject": "Leak? {{ window.sum }}"}}
    patched = api.ok("PATCH", "/v1/templates/water.leak", tenant.ops, json=patch)
    assert patched["parts"]["subject"] == "Leak? {{ window.sum }}"
    assert writable == [True, True]


def test_an_edit_stored_while_a_change_renders_is_kept(
    frozen: FrozenApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, runtime = frozen.api, frozen.runtime
    tenant = api.tenant()
    create(api, tenant, EMAIL_EN)
    edited: list[bool] = []

    def edit_text() -> None:
        with unit_of_work(runtime.db) as session:
            session.execute(
                update(Template)
                .where(Template.tenant_id == tenant.id)  # type: ignore[arg-type]
                .values(parts={**EMAIL_EN["parts"], "text": "Edited {{ window.sum }}"})
            )
        edited.append(True)

    def during_render() -> None:
        if edited:
            return
        editor = threading.Thread(target=edit_text)
        editor.start()
        editor.join(JOIN_S)
        assert not editor.is_alive(), "the edit waited for the rendering"

    _watch(monkeypatch, engine.message_templates.service, "validate", during_render)
    patch = {"channel": "email", "locale": "en", "parts": {"subject": "Leak? {{ window.sum }}"}}
    patched = api.ok("PATCH", "/v1/templates/water.leak", tenant.ops, json=patch)
    assert edited == [True]
    assert patched["parts"]["subject"] == "Leak? {{ window.sum }}"
    assert patched["parts"]["text"] == "Edited {{ window.sum }}"
