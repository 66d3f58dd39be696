"""The console's rules: the list, the editor with inline errors, publish and retire after a
confirmation, versions side by side, and moving triggers to the latest version."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import CatalogServiceDep, ConsoleRulesDep
from api.web.console_deps import Ops, OpsDep
from api.web.console_forms import (
    OPTIONS,
    definition_from,
    field_errors,
    form_values,
    position_of,
    posted_values,
)
from api.web.deps import FormDep, nul_errors, readable
from engine.catalog.schemas import RuleCreate, RuleUpdate, rule_body
from engine.console.rule_tests import run_rule_tests
from engine.console.rules import ConsoleRules
from engine.errors import InvalidInput
from engine.models import Rule

router = APIRouter(prefix="/console/rules", tags=["console"], include_in_schema=False)
Key = Annotated[str, Path(max_length=120)]
Version = Annotated[int, Query(ge=0, le=1_000_000)]
MAX_TESTS = 200_000  # characters of a rule's test cases
EMPTY: dict[str, Any] = {"kind": "threshold", "parameters": [], "condition": "true"}


@router.get("", response_class=HTMLResponse)
def rules_list(ops: OpsDep, console: ConsoleRulesDep) -> HTMLResponse:
    rows = console.overview(ops.tenant.id)
    return ops.page("rules.html", title=ops.t("nav.rules"), rows=rows, section="rules")


@router.get("/new", response_class=HTMLResponse)
def new_rule(ops: OpsDep, console: ConsoleRulesDep) -> HTMLResponse:
    return _editor(ops, console, None, form_values(EMPTY))


@router.post("/new", response_model=None)
def create_rule(
    ops: OpsDep, form: FormDep, catalog: CatalogServiceDep, console: ConsoleRulesDep
) -> Response:
    values = posted_values(readable(form))
    refused = nul_errors(form, ops.t)
    if refused:
        return _editor(ops, console, None, values, status=422, shown_errors=refused)
    try:
        body = rule_body(RuleCreate, definition_from(values, {}))
        rule = catalog.create(ops.tenant.id, body.model_dump(exclude_unset=True))
    except InvalidInput as exc:
        return _editor(ops, console, None, values, exc, 422)
    return ops.redirect(f"/console/rules/{rule.key}", done="saved")


@router.get("/{key}", response_class=HTMLResponse)
def edit_rule(
    ops: OpsDep, key: Key, catalog: CatalogServiceDep, console: ConsoleRulesDep, done: str = ""
) -> HTMLResponse:
    rule = catalog.get(ops.tenant.id, key)
    said = _done(ops, done, rule)
    report = None
    if done == "saved" and rule.tests:
        # Run here, after the save's redirect: a GET holds no write lock while they evaluate.
        report = run_rule_tests(rule.draft, rule.tests)
        said = ops.t("editor.saved.tests", passed=report.passed, failed=report.failed)
    return _editor(ops, console, rule, form_values(rule.draft), done=said, report=report)


@router.post("/{key}", response_model=None)
def save_rule(
    ops: OpsDep, key: Key, form: FormDep, catalog: CatalogServiceDep, console: ConsoleRulesDep
) -> Response:
    rule = catalog.get(ops.tenant.id, key)
    values = posted_values(readable(form))
    values["key"] = rule.key
    tests = str(readable(form).get("tests") or "")
    refused = nul_errors(form, ops.t)
    if len(tests) > MAX_TESTS and not refused:
        refused = [("tests", ops.t("editor.tests.too_long", max=f"{MAX_TESTS:,}"))]
    if refused:
        return _editor(ops, console, rule, values, status=422, shown_errors=refused, tests=tests)
    try:
        body = rule_body(RuleUpdate, definition_from(values, rule.draft))
        rule = catalog.update(ops.tenant.id, key, body.model_dump(exclude_unset=True))
    except InvalidInput as exc:
        return _editor(ops, console, rule, values, exc, 422, tests=tests)
    catalog.save_tests(rule, tests if tests.strip() else None)
    return ops.redirect(f"/console/rules/{key}", done="saved")


def _done(ops: Ops, done: str, rule: Rule) -> str | None:
    if done == "saved":
        return ops.t("editor.saved")
    if done == "published":
        return ops.t("rule.published", version=rule.latest_version)
    if done == "retired":
        return ops.t("rule.retired")
    if done.startswith("moved:"):
        moved, _, kept = done.removeprefix("moved:").partition(":")
        text = "rule.migrated"
        return ops.t(text, moved=moved, kept=kept, version=rule.latest_version)
    return None


def _editor(
    ops: Ops,
    console: ConsoleRules,
    rule: Rule | None,
    values: dict[str, str],
    error: InvalidInput | None = None,
    status: int = 200,
    shown_errors: list[tuple[str, str]] | None = None,
    **extra: Any,
) -> HTMLResponse:
    """The editor with ``values``; a refused save's errors beside their fields."""
    row = console.row(ops.tenant.id, rule.key) if rule else None
    position = position_of(error, values["condition"]) if error else None
    extra.setdefault("tests", (rule.tests or "") if rule is not None else "")
    extra.setdefault("report", None)
    title = ops.t("editor.title", key=rule.key) if rule else ops.t("editor.title.new")
    return ops.page(
        "rule.html",
        status,
        title=title,
        rule=rule,
        row=row,
        values=values,
        choices=OPTIONS,
        errors=shown_errors or (field_errors(error) if error else []),
        position=position,
        section="rules",
        **extra,
    )


@router.get("/{key}/publish", response_class=HTMLResponse)
def confirm_publish(ops: OpsDep, key: Key, catalog: CatalogServiceDep) -> HTMLResponse:
    rule = catalog.get(ops.tenant.id, key)
    return _confirm(ops, rule, "publish", rule.latest_version + 1)


@router.post("/{key}/publish", response_model=None)
def publish(
    ops: OpsDep, key: Key, form: FormDep, catalog: CatalogServiceDep, console: ConsoleRulesDep
) -> Response:
    try:
        catalog.publish(ops.tenant.id, key)
    except InvalidInput as exc:
        rule = catalog.get(ops.tenant.id, key)
        return _editor(ops, console, rule, form_values(rule.draft), exc, 422)
    return ops.redirect(f"/console/rules/{key}", done="published")


@router.get("/{key}/retire", response_class=HTMLResponse)
def confirm_retire(ops: OpsDep, key: Key, catalog: CatalogServiceDep) -> HTMLResponse:
    rule = catalog.get(ops.tenant.id, key)
    return _confirm(ops, rule, "retire", rule.latest_version)


@router.post("/{key}/retire", response_model=None)
def retire(ops: OpsDep, key: Key, form: FormDep, catalog: CatalogServiceDep) -> RedirectResponse:
    catalog.retire(ops.tenant.id, key)
    return ops.redirect(f"/console/rules/{key}", done="retired")


def _confirm(ops: Ops, rule: Rule, action: str, version: int) -> HTMLResponse:
    """Publishing shows the rule's tests run against the draft first."""
    title = ops.t(f"rule.{action}.confirm", key=rule.key, version=version)
    report = run_rule_tests(rule.draft, rule.tests) if action == "publish" and rule.tests else None
    return ops.page(
        "confirm.html", title=title, rule=rule, action=action, report=report, section="rules"
    )


@router.get("/{key}/compare", response_class=HTMLResponse)
def compare(
    ops: OpsDep,
    key: Key,
    catalog: CatalogServiceDep,
    console: ConsoleRulesDep,
    left: Version = 0,
    right: Version = 0,
) -> HTMLResponse:
    rule = catalog.get(ops.tenant.id, key)
    service = console
    if not left and not right:
        left, right = max(rule.latest_version - 1, 0), rule.latest_version
    differences = service.compare(rule, left, right)
    return ops.page(
        "compare.html",
        title=ops.t("rule.compare"),
        rule=rule,
        left=left,
        right=right,
        differences=differences,
        section="rules",
    )


@router.post("/{key}/move", response_model=None)
def move_triggers(
    ops: OpsDep, key: Key, form: FormDep, console: ConsoleRulesDep
) -> RedirectResponse:
    moved = console.move_triggers(ops.tenant.id, key, ops.who)
    return ops.redirect(f"/console/rules/{key}", done=f"moved:{moved.moved}:{moved.kept}")
