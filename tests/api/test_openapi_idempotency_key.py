"""The OpenAPI document declares the ``Idempotency-Key`` header on exactly the operations that
honour it (every POST that takes credentials: the server replays the first answer to a
repeated key of the same credentials), with the shape the server enforces (1 to 200 printable
ASCII characters) and its 400, so /docs shows it and schemathesis fuzzes it. What the
document says is checked against what the server does."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

HEADER = "Idempotency-Key"
UNUSABLE = "bell\x07"  # a control character: refused by the server, outside the pattern
CREDENTIALS = {"Authorization": "Bearer nk_unknown.secret"}  # the key is checked first


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    document: dict[str, Any] = client.get("/openapi.json").json()
    return [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _declared(operation: dict[str, Any]) -> dict[str, Any] | None:
    found = [p for p in operation.get("parameters", []) if p["name"].lower() == "idempotency-key"]
    assert len(found) <= 1, found
    return found[0] if found else None


def _refuses_the_key(client: TestClient, method: str, path: str, secured: bool) -> bool:
    """Whether the server answers an unusable key with the 400 that names the header, sent
    as the operation's callers send it (with credentials if it takes them)."""
    url = re.sub(r"\{[^}]+\}", "x", path)
    headers = {HEADER: UNUSABLE, **(CREDENTIALS if secured else {})}
    answer = client.request(method.upper(), url, headers=headers, content=b"{}")
    if answer.status_code != 400:
        return False
    return [e["field"] for e in answer.json().get("errors", [])] == [f"header.{HEADER}"]


def test_the_header_is_declared_on_exactly_the_operations_that_honour_it(
    client: TestClient,
) -> None:
    operations = _operations(client)
    posts = [(path, method) for path, method, _ in operations if method == "post"]
    assert ("/v1/customers", "post") in posts and len(posts) > 10
    for path, method, operation in operations:
        declared, secured = _declared(operation), bool(operation.get("security"))
        honoured = _refuses_the_key(client, method, path, secured)
        assert (declared is not None) == honoured == (method == "post" and secured), (
            method,
            path,
        )
        if declared is None:
            continue
        assert declared["in"] == "header" and declared.get("required") is not True
        assert declared["schema"]["minLength"] == 1 and declared["schema"]["maxLength"] == 200
        assert "400" in operation["responses"], (method, path)
        assert "Idempotency-Key" in operation["responses"]["400"]["description"]


def test_the_declared_pattern_is_what_the_server_takes(client: TestClient) -> None:
    [declared] = [
        _declared(operation)
        for path, method, operation in _operations(client)
        if (path, method) == ("/v1/customers", "post")
    ]
    assert declared is not None
    pattern = re.compile(declared["schema"]["pattern"])
    taken = ["a", "k" * 200, "a b", "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", "0"]
    refused = ["", "k" * 201, "a\x00b", "tab\there", "escape\x1b[31m", "delete\x7f", "é"]
    for key in taken:
        assert pattern.fullmatch(key) and pattern.search(key), key
    for key in refused:
        assert not pattern.search(key), key
