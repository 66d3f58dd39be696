"""Driving the console without a browser: signing in with an ops key, forms with CSRF."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.web.pages import csrf


def console_sign_in(client: TestClient, ops_key: str) -> httpx.Response:
    page = client.get("/console/login")
    assert page.status_code == 200, page.text
    return client.post("/console/login", data={"key": ops_key, "csrf_token": csrf(page.text)})


def post_form(client: TestClient, page_path: str, to: str, /, **fields: Any) -> httpx.Response:
    """Load ``page_path`` for its CSRF token, then post ``fields`` to ``to``."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(to, data={"csrf_token": csrf(page.text), **fields})
