"""JSON routes whose sync work is one trip to the thread pool.

FastAPI runs a sync endpoint in the thread pool, then validates its answer in another trip,
and the request's unit of work commits in a third (`api.deps.request_unit_of_work`). Under
load each trip waits for the GIL, and a writer holds SQLite's write lock across them. A
`WorkRoute` runs the endpoint, checks its answer against the response model and commits the
unit of work in one trip; an answer that does not validate is refused before the commit, as
before.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import finish_work


class WorkRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _in_one_trip(endpoint, lambda: self)
        super().__init__(path, endpoint, **kwargs)


def _in_one_trip(endpoint: Callable[..., Any], route: Callable[[], APIRoute]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    async def run(**values: Any) -> Any:
        return await run_in_threadpool(_work, endpoint, route(), values)

    return run


def _work(endpoint: Callable[..., Any], route: APIRoute, values: dict[str, Any]) -> Any:
    answer = endpoint(**values)
    field = route.response_field
    if field is not None and not isinstance(answer, Response):
        answer, errors = field.validate(answer, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors=errors, body=answer)
    finish_work()
    return answer
