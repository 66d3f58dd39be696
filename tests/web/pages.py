"""Driving the pages without a browser: forms with their CSRF token, signing in by link."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.fixtures.api import Api, TenantHandle

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def manage_link(api: Api, tenant: TenantHandle, customer_id: str, **body: Any) -> str:
    answer = api.ok(
        "POST", f"/v1/customers/{customer_id}/manage-link", tenant.feed, 201, json=body or None
    )
    return path_of(str(answer["url"]))


def sign_in(client: TestClient, link: str) -> httpx.Response:
    """Open a manage link and press its button: the overview, signed in."""
    page = client.get(link)
    assert page.status_code == 200, page.text
    token = unescape(re.search(r'name="token" value="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    return client.post("/me/link", data={"token": token, "csrf_token": csrf(page.text)})


def submit(client: TestClient, page_path: str, action: str, **fields: Any) -> httpx.Response:
    """Load ``page_path`` for its CSRF token, then post ``fields`` to ``action``."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={"csrf_token": csrf(page.text), **fields})


def history(api: Api, token: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.ok("GET", "/v1/me/history?limit=200", token)["items"]
    return items
