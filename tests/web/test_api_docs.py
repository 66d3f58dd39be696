"""/docs works in a browser with no network beyond this server, Authorize button included."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Live

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_docs_render_offline_with_an_authorize_button(live: Live, page: Any) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live.url}/docs")

    page.get_by_role("button", name="Authorize").wait_for()
    assert page.get_by_text("/v1/me/consents").first.is_visible()
    assert requested and all(url.startswith(live.url) for url in requested), requested
