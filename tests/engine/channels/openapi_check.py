"""Cross-checks recorded stub traffic with openapi-core, the reference OpenAPI validator."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.fixtures.twilio_stub import API_PREFIX, SID_PREFIXES, StubRequest


def openapi_problems(spec_path: Path, recorded: StubRequest) -> list[str]:
    """What openapi-core finds wrong with a recorded request and the stub's answer to it."""
    api = _reference(spec_path)
    content_type = recorded.headers.get("content-type", "")
    request = MockRequest(
        "https://api.twilio.com",
        recorded.method,
        urlsplit(recorded.path).path,
        headers=recorded.headers,
        data=recorded.body,
        content_type=content_type,
    )
    response = MockResponse(json.dumps(recorded.answer).encode(), status_code=recorded.status)
    errors: list[Any] = [*api.iter_request_errors(request)]
    errors += [*api.iter_response_errors(request, response)]
    return [
        f"{type(error).__name__}: {error} {getattr(error, '__cause__', '')}" for error in errors
    ]


@cache
def _reference(spec_path: Path) -> OpenAPI:
    document = json.loads(spec_path.read_text())
    names = [f"{API_PREFIX}{name}.json" for name in SID_PREFIXES]
    # Only the two operations: with the whole document every lookup is slow.
    paths = {name: document["paths"][name] for name in names}
    return OpenAPI.from_dict(document | {"paths": paths}, config=Config(spec_validator_cls=None))
