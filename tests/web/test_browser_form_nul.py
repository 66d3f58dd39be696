"""In a real browser: a field holding U+0000 (pasted, say) sent from the customer's page comes
back as the same form with the error linked from the summary and beside the field, which is
marked invalid and described by it; axe-core finds nothing serious; the error link leads to
the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Live, axe_violations

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_a_nul_in_a_field_is_shown_beside_it(live: Live, page: Any) -> None:
    api = live.api
    tenant = api.tenant()
    customer = api.customer(tenant, name="Ada", locale="en", timezone="Europe/Berlin")
    link = api.ok("POST", f"/v1/customers/{customer['id']}/manage-link", tenant.feed, 201)
    page.goto(link["url"])
    page.get_by_role("button", name="Continue").click()
    page.goto(live.url + "/me/data")
    name = page.get_by_label("Name")
    name.evaluate("field => { field.value = 'Ada\\u0000King' }")  # no keyboard types it
    page.get_by_role("button", name="Save details").click()

    error = page.get_by_role("link", name="Remove the character U+0000 (NUL): no text may hold it")
    error.wait_for()
    assert page.title().startswith("There is a problem")
    assert name.get_attribute("aria-invalid") == "true"
    assert "name-error" in (name.get_attribute("aria-describedby") or "")
    assert name.input_value() == "Ada\ufffdKing"  # what was typed, the NUL shown as U+FFFD
    assert axe_violations(page) == []
    error.click()
    assert page.evaluate("location.hash") == "#name"
    assert api.ok("GET", f"/v1/customers/{customer['id']}", tenant.ops)["name"] == "Ada"
