"""Liveness, readiness and metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import get_runtime
from engine.platform.migrations import migration_status
from engine.processes.runtime import Runtime

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz", responses={503: {"description": "Not ready", "content": {"application/json": {}}}}
)
async def readyz(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Any:
    """The database answers and its schema is at the latest migration."""
    status = await run_in_threadpool(migration_status, runtime.db)
    body = {"status": "ready" if status.ready else "not ready", **status.as_dict()}
    return JSONResponse(body, status_code=200 if status.ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {"text/plain": {}}}},
)
async def metrics() -> Response:
    """Prometheus text exposition."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
