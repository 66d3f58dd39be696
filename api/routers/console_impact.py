"""Impact of a draft in the console: started as a job, its progress shown on a page that
refreshes itself (no script), then the answer in a sentence, a chart per day and a table."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CatalogServiceDep, ClockDep, ConsoleBacktestsDep
from api.web.console_chart import day_chart
from api.web.console_deps import Ops, OpsDep
from api.web.deps import FormDep
from engine.catalog.compiled import CompiledRule
from engine.console.impact import MAX_DAYS, Impact
from engine.console.jobs import Job, Jobs
from engine.errors import InvalidInput
from engine.models import Rule
from engine.platform.clock import Clock
from engine.platform.db import deferred_writes
from engine.processes.runtime import Runtime

router = APIRouter(prefix="/console/rules", tags=["console"], include_in_schema=False)
Key = Annotated[str, Path(max_length=120)]
JobId = Annotated[str, Query(max_length=60)]
REFRESH_S = 2


def jobs_of(request: Request) -> Jobs:
    jobs: Jobs | None = getattr(request.app.state, "console_jobs", None)
    if jobs is None:
        jobs = request.app.state.console_jobs = Jobs()
    return jobs


@router.get("/{key}/impact", response_class=HTMLResponse)
def impact_page(
    request: Request,
    ops: OpsDep,
    catalog: CatalogServiceDep,
    clock: ClockDep,
    key: Key,
    job: JobId = "",
) -> HTMLResponse:
    rule = catalog.get(ops.tenant.id, key)
    found = jobs_of(request).get(ops.tenant.id, job) if job else None
    if found is not None and found.subject != rule.key:
        found = None
    return _page(ops, clock, rule, found, days=30)


@router.post("/{key}/impact", response_model=None)
def start_impact(
    request: Request,
    ops: OpsDep,
    catalog: CatalogServiceDep,
    backtests: ConsoleBacktestsDep,
    clock: ClockDep,
    key: Key,
    form: FormDep,
) -> Response:
    rule = catalog.get(ops.tenant.id, key)
    days = _days(form.get("days"))
    if days is None:
        errors = [("days", ops.t("impact.days.error", max=MAX_DAYS))]
        return _page(ops, clock, rule, None, 30, errors, 422)
    try:
        compiled = backtests.compiled(rule, 0)
        if compiled.definition.kind != "threshold":
            raise InvalidInput.at(("path", "key"), ops.t("backtest.only_threshold"))
    except InvalidInput as exc:
        return _page(ops, clock, rule, None, days, [("days", exc.detail)], 422)
    jobs = jobs_of(request)
    busy = jobs.running(ops.tenant.id)
    if busy is not None:  # one replay at a time per tenant: show the one under way
        return ops.redirect(f"/console/rules/{busy.subject}/impact", job=busy.id)
    runtime: Runtime = request.app.state.runtime
    work = _work(runtime, ops.tenant.id, compiled, days)
    job = jobs.start(ops.tenant.id, rule.key, work, days=days)
    return ops.redirect(f"/console/rules/{rule.key}/impact", job=job.id)


def _work(runtime: Runtime, tenant_id: str, rule: CompiledRule, days: int) -> Any:
    def run(job: Job) -> Impact:
        now = runtime.clock.now()
        # It only reads: a deferred transaction holds no write lock while conditions run.
        with deferred_writes(), runtime.services() as services:
            return services.impact.run(tenant_id, rule, days, now, job.progress)

    return run


def _days(raw: object) -> int | None:
    try:
        days = int(str(raw or "").strip())
    except ValueError:
        return None
    return days if 1 <= days <= MAX_DAYS else None


def _page(
    ops: Ops,
    clock: Clock,
    rule: Rule,
    job: Job | None,
    days: int,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    impact: Impact | None = job.result if job is not None and job.finished else None
    per_day = impact.per_day(clock.now().astimezone(_zone(ops)).date()) if impact else []
    return ops.page(
        "impact.html",
        status,
        title=ops.t("impact.title") + f": {rule.key}",
        rule=rule,
        job=job,
        impact=impact,
        per_day=per_day,
        chart=day_chart(per_day),
        days=job.meta.get("days", days) if job else days,
        refresh=REFRESH_S if job is not None and not job.finished else None,
        errors=errors or [],
        section="rules",
    )


def _zone(ops: Ops) -> ZoneInfo:
    return ZoneInfo(ops.tenant.default_timezone)
