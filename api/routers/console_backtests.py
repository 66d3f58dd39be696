"""Back-tests in the console: a rule version over a customer's readings (by external id) or
an uploaded file, drawn as a chart of each window's aggregate with the parameter's line and
the windows that fire, and a table of the hits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from api.deps import CatalogServiceDep, ConsoleBacktestsDep
from api.web import params as param_form
from api.web.chart import chart
from api.web.console_deps import Ops, OpsDep
from api.web.deps import FormDep, nul_errors, readable
from engine.console.backtests import BacktestView, ConsoleBacktests
from engine.errors import InvalidInput, NotFound
from engine.models import Rule

router = APIRouter(prefix="/console/rules", tags=["console"], include_in_schema=False)
Key = Annotated[str, Path(max_length=120)]
MAX_UPLOAD = 8 * 1024 * 1024
MAX_VERSION = 1_000_000


@router.get("/{key}/backtest", response_class=HTMLResponse)
def backtest_page(
    ops: OpsDep,
    catalog: CatalogServiceDep,
    backtests: ConsoleBacktestsDep,
    key: Key,
    version: Annotated[int, Query(ge=0, le=MAX_VERSION)] = 0,
    customer: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    rule = catalog.get(ops.tenant.id, key)
    form = FormData({"version": str(version), "customer": customer})
    return _run(ops, backtests, rule, form, None) if customer else _page(ops, backtests, rule, form)


@router.post("/{key}/backtest", response_class=HTMLResponse)
async def run_backtest(
    ops: OpsDep,
    catalog: CatalogServiceDep,
    backtests: ConsoleBacktestsDep,
    key: Key,
    form: FormDep,
) -> HTMLResponse:
    rule = catalog.get(ops.tenant.id, key)
    refused = nul_errors(form, ops.t)
    if refused:
        return _page(ops, backtests, rule, readable(form), errors=refused, status=422)
    upload = form.get("file")
    body = None
    if isinstance(upload, UploadFile) and upload.filename:
        body = await upload.read(MAX_UPLOAD + 1)
        if len(body) > MAX_UPLOAD:
            return _page(ops, backtests, rule, form, errors=[("file", "over 8 MB")], status=422)
    return _run(ops, backtests, rule, form, body or None)


def _run(
    ops: Ops, backtests: ConsoleBacktests, rule: Rule, form: FormData, body: bytes | None
) -> HTMLResponse:
    external_id = str(form.get("customer") or "").strip()
    if bool(external_id) == bool(body):
        return _page(
            ops, backtests, rule, form, errors=[("customer", ops.t("backtest.source"))], status=422
        )
    try:
        compiled = backtests.compiled(rule, _version(form))
        values, _, errors = param_form.parse(compiled.definition.parameters, form, ops.visitor.lang)
        if errors:
            return _page(ops, backtests, rule, form, errors=errors, status=422)
        if body is not None:
            zone = str(form.get("timezone") or ops.tenant.default_timezone)
            view = backtests.for_file(ops.tenant, compiled, body, zone, values)
        else:
            view = backtests.for_customer(ops.tenant, compiled, external_id, values)
    except NotFound:
        return _page(
            ops, backtests, rule, form, errors=[("customer", ops.t("backtest.unknown"))], status=404
        )
    except InvalidInput as exc:
        shown = [(_field(e.loc), e.msg) for e in exc.errors] or [("customer", exc.detail)]
        return _page(ops, backtests, rule, form, errors=shown, status=422)
    return _page(ops, backtests, rule, form, view=view)


def _field(loc: tuple[str | int, ...]) -> str:
    name = str(loc[-1]) if loc else "customer"
    if name in ("file", "timezone", "customer"):
        return name
    return param_form.FIELD_PREFIX + name if loc and loc[0] == "params" else "customer"


def _version(form: FormData) -> int:
    """The chosen version (0: the draft); past the highest a rule may have, one that does not
    exist (as the GET's bound: the database's integers end not far beyond)."""
    try:
        return min(max(int(str(form.get("version") or 0)), 0), MAX_VERSION + 1)
    except ValueError:
        return 0


def _page(
    ops: Ops,
    backtests: ConsoleBacktests,
    rule: Rule,
    form: FormData,
    view: BacktestView | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    version = _version(form)
    try:
        definition = backtests.compiled(rule, version).definition
    except (InvalidInput, NotFound):
        definition = None
    lang = ops.visitor.lang
    if view is not None:
        ops.visitor.zone = view.timezone  # windows are the customer's calendar periods
    fields: list[Any] = []
    if definition is not None:
        labels = {
            s.name: s.label.get(lang) or s.label.get("en") or s.name for s in definition.parameters
        }
        typed = {
            s.name: str(form.get(param_form.FIELD_PREFIX + s.name) or "")
            for s in definition.parameters
        }
        values = {k: v for k, v in typed.items() if v} or {}
        fields = param_form.fields(definition.parameters, labels, values, lang)
    versions = [(0, ops.t("rule.draft"))] + [
        (v, f"v{v}") for v in range(1, rule.latest_version + 1)
    ]
    return ops.page(
        "backtest.html",
        status,
        title=ops.t("backtest.title", key=rule.key),
        rule=rule,
        definition=definition,
        versions=versions,
        version=version,
        customer=str(form.get("customer") or ""),
        timezone=str(form.get("timezone") or ops.tenant.default_timezone),
        fields=fields,
        view=view,
        chart=chart(view.preview) if view else None,
        errors=errors or [],
        section="rules",
    )
