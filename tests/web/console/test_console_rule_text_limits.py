"""The console's rule form refuses a title or description over its limit as the JSON API
does (the same body models): a 422 page with the error in the summary and beside the field
that holds the text, nothing saved."""

from __future__ import annotations

import re

import httpx
import pytest

from engine.catalog.schemas import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH
from tests.fixtures.api import Api
from tests.fixtures.rules import DAILY_ENERGY, publish
from tests.web.console.console import console_sign_in, post_form

FORM: dict[str, str] = {
    "key": DAILY_ENERGY["key"],
    "title_en": "Daily use above your limit",
    "topic": "energy",
    "kind": "threshold",
    "metric": "electricity.consumption",
    "window": "day",
    "aggregate": "sum",
    "baseline_windows": "4",
    "parameters": "[]",
    "condition": "window.sum > 5.0",
    "urgency": "normal",
    "rearm_mode": "once_per_window",
    "cap_policy": "defer",
    "template_key": "energy.daily_above",
    "escalation": "30",
}
TOO_LONG = [
    ("title_en", "t" * (MAX_TITLE_LENGTH + 1), MAX_TITLE_LENGTH),
    ("title_de", "t" * 100_000, MAX_TITLE_LENGTH),
    ("description_en", "d" * (MAX_DESCRIPTION_LENGTH + 1), MAX_DESCRIPTION_LENGTH),
    ("description_de", "d" * (MAX_DESCRIPTION_LENGTH + 1), MAX_DESCRIPTION_LENGTH),
]


def _shown_beside(answer: httpx.Response, field: str, limit: int) -> None:
    text = answer.text
    assert answer.status_code == 422, (answer.status_code, text[:2000])
    assert f'href="#{field}"' in text
    control = re.search(rf'<input[^>]*\bid="{field}"[^>]*>', text)
    assert control and 'aria-invalid="true"' in control.group(0), text[:3000]
    message = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', text, re.S)
    assert message and f"at most {limit} characters" in message.group(1), text[:3000]


@pytest.mark.parametrize(("field", "text", "limit"), TOO_LONG, ids=[t[0] for t in TOO_LONG])
def test_a_text_over_its_limit_is_refused_beside_its_field(
    api: Api, field: str, text: str, limit: int
) -> None:
    tenant = api.tenant()
    publish(api, tenant, DAILY_ENERGY)
    before = api.ok("GET", f"/v1/rules/{DAILY_ENERGY['key']}", tenant.ops)["draft"]
    console_sign_in(api.client, tenant.ops_key)

    new = {**FORM, "key": "energy.week_above", field: text}
    _shown_beside(
        post_form(api.client, "/console/rules/new", "/console/rules/new", **new), field, limit
    )
    assert api.client.get("/v1/rules/energy.week_above", headers=tenant.ops).status_code == 404

    edit = f"/console/rules/{DAILY_ENERGY['key']}"
    _shown_beside(post_form(api.client, edit, edit, **{**FORM, field: text}), field, limit)
    assert api.ok("GET", f"/v1/rules/{DAILY_ENERGY['key']}", tenant.ops)["draft"] == before
