"""JSON logs: one object per line, extra fields kept, credentials never written."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from engine.platform.logging import JsonFormatter
from tests.fixtures.api import ADMIN_KEY, Api

KEY = "nk_01jd5x7k2m3n4p5q6r7s8t9v0w.Zx3-_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ01"
TOKEN = (
    "nct.eyJjIjoiY3VzXzAxIiwiZXhwIjoxNzAwMDAwMDAwLCJ0IjoidGVuXzAxIn0"
    ".q1W2e3R4t5Y6u7I8o9P0-_aSdFgHjKl"
)
KEY_SECRET = KEY.partition(".")[2]
TOKEN_BODY = TOKEN.removeprefix("nct.")


def _format(msg: str, *args: object, exc: BaseException | None = None, **extra: Any) -> str:
    record = logging.getLogger("nudge.test").makeRecord(
        "nudge.test",
        logging.WARNING,
        __file__,
        1,
        msg,
        args,
        (type(exc), exc, exc.__traceback__) if exc else None,
        extra=extra,
    )
    return JsonFormatter().format(record)


def _assert_clean(line: str) -> None:
    assert KEY_SECRET not in line
    assert TOKEN_BODY not in line
    assert TOKEN_BODY[:20] not in line


def test_one_json_object_per_line_with_level_message_and_extras() -> None:
    line = _format("sent %s\nto %s", "reminder", "ada", customer="cus_1", attempt=2)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "warning"
    assert entry["logger"] == "nudge.test"
    assert entry["msg"] == "sent reminder\nto ada"
    assert (entry["customer"], entry["attempt"]) == ("cus_1", 2)
    assert entry["ts"].endswith("+00:00")


def test_keys_and_tokens_are_redacted_wherever_they_appear() -> None:
    try:
        raise ValueError(f"bad credential {KEY}")
    except ValueError as exc:
        line = _format(
            "auth with %s failed; token %s",
            KEY,
            TOKEN,
            exc=exc,
            header=f"Bearer {TOKEN}",
            admin=f"Authorization: Bearer {ADMIN_KEY}",
            context={"key": KEY, "nested": [TOKEN]},
        )

    _assert_clean(line)
    assert ADMIN_KEY not in line
    entry = json.loads(line)
    assert entry["msg"].startswith("auth with nk_01jd5x7k2m3n4p5q6r7s8t9v0w.")
    assert "ValueError" in entry["exc"]


def test_the_access_log_of_a_request_carries_no_secret(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant)
    token = api.token(tenant, customer["id"])
    caplog.set_level(logging.INFO, logger="nudge.access")

    api.client.get(f"/v1/customers?external_id={tenant.ops_key}", headers=tenant.ops)
    api.client.get("/v1/me", headers=token)

    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "nudge.access"]
    assert len(lines) == 2
    for line in lines:
        entry = json.loads(line)
        assert entry["msg"] == "request" and entry["status"] == 200
        assert tenant.ops_key.partition(".")[2] not in line
        assert token["Authorization"].removeprefix("Bearer nct.") not in line
