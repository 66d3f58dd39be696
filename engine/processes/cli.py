"""The ``nudge`` command line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from engine.errors import NudgeError
from engine.models import Role
from engine.platform.config import Settings, get_settings
from engine.platform.logging import configure_logging
from engine.platform.migrations import upgrade
from engine.processes.runtime import Runtime
from engine.processes.tuning import UnsafeSettings, check_settings, tune_garbage_collector

if TYPE_CHECKING:
    from engine.processes.importer import ImportReport

app = typer.Typer(
    help="nudge: proactive notifications on the customer's terms.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
rules_app = typer.Typer(help="Rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
console = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Option(help="Alembic revision to migrate to; head is the latest")
    ] = "head",
) -> None:
    """Apply migrations to the database at NUDGE_DATABASE_URL (default ./nudge.db)."""
    settings = get_settings()
    upgrade(settings.database_url, revision)
    console.print(f"database at {revision}: {settings.database_url}")


@rules_app.command("test")
def rules_test(
    files: Annotated[list[Path], typer.Argument(help="rule test files (YAML or JSON)")],
) -> None:
    """Run rule test files: readings or events in, expected notifications out. Prints a
    diff (- expected, + got) for each failing test; exits 1 if any fails."""
    from engine.console.rule_tests import run_file

    failed = 0
    for path in files:
        report = run_file(path)
        typer.echo(report.text())
        failed += report.failed
    typer.echo(f"{failed} failed" if failed else "all passed")
    raise typer.Exit(1 if failed else 0)


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="admin, or ops/feed with --tenant")] = Role.admin,
    tenant: Annotated[str | None, typer.Option(help="tenant id for ops/feed keys")] = None,
    name: Annotated[str, typer.Option(help="a label to recognise the key by")] = "",
) -> None:
    """Create a key and print it once (stdout); only its hash is stored."""
    from engine.tenants.schemas import KeyCreate

    if role is not Role.admin and tenant is None:
        raise typer.BadParameter("ops and feed keys need --tenant")
    runtime = Runtime.from_settings()
    try:
        with runtime.services() as services:
            if tenant is None:
                issued = services.tenants.create_admin_key(name)
            else:
                issued = services.tenants.create_tenant_key(tenant, KeyCreate(role=role, name=name))
    except NudgeError as exc:
        console.print(f"[red]{exc.detail or exc.title}[/red]")
        raise typer.Exit(1) from None
    finally:
        runtime.db.dispose()
    console.print(f"{role.value} key {issued.id} created; it is shown only this once:")
    typer.echo(issued.key)


Host = Annotated[
    str | None,
    typer.Option(help="address to listen on (default: $NUDGE_HOST, else 127.0.0.1)"),
]
Port = Annotated[
    int | None,
    typer.Option(min=1, max=65535, help="port to listen on (default: $NUDGE_PORT, else 8000)"),
]


def _run_api(host: str | None, port: int | None, dispatch: bool) -> None:
    import uvicorn

    # Links and callbacks follow the address served on, unless NUDGE_PUBLIC_BASE_URL is set.
    # The app reads the same settings: the HTTP layer sits above the engine, so it is named
    # to the server here, never imported.
    if host is not None:
        os.environ["NUDGE_HOST"] = host
    if port is not None:
        os.environ["NUDGE_PORT"] = str(port)
    get_settings.cache_clear()
    settings = get_settings()
    configure_logging(settings.log_level)
    _refuse_unsafe(settings)
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"nudge on {url}  (API docs: {url}/docs)", highlight=False)
    console.print(f"links in messages point at {settings.public_base_url}", highlight=False)
    if settings.admin_key is None:
        console.print("admin key: set NUDGE_ADMIN_KEY, or run `nudge keys create --role admin`")
    tune_garbage_collector(settings)
    factory = "api.app:create_server" if dispatch else "api.app:create_app"
    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=settings.keep_alive_seconds,
    )


def _refuse_unsafe(settings: Settings) -> None:
    try:
        problems = check_settings(settings)
    except UnsafeSettings as exc:
        console.print(f"[bold red]nudge will not start:[/] {exc.detail}", highlight=False)
        raise typer.Exit(2) from None
    for problem in problems:
        console.print(f"[bold red]WARNING (development only):[/] {problem}", highlight=False)


@app.command()
def serve(host: Host = None, port: Port = None) -> None:
    """Run the API, the evaluator and the dispatcher in one process."""
    _run_api(host, port, dispatch=True)


@app.command()
def api(host: Host = None, port: Port = None) -> None:
    """Run only the HTTP API and the evaluator (scale-out: many of these, plus workers)."""
    _run_api(host, port, dispatch=False)


@app.command()
def worker() -> None:
    """Run the dispatcher without the API: claim due notifications and send them."""
    import asyncio

    from engine.processes.worker import run_worker

    settings = get_settings()
    configure_logging(settings.log_level)
    _refuse_unsafe(settings)
    console.print(f"nudge worker on {settings.database_url}")
    tune_garbage_collector(settings)
    asyncio.run(run_worker(Runtime.from_settings(settings)))


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    tenant: Annotated[str, typer.Option(help="tenant id")],
    customer: Annotated[
        str | None, typer.Option(help="external id (Green Button and UCI files)")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto, json, ndjson, csv, greenbutton, uci")
    ] = "auto",
    batch_size: Annotated[
        int, typer.Option(min=1, max=50_000, help="readings per transaction, as in one feed call")
    ] = 5000,
) -> None:
    """Import readings from FILE as the feed API would, with a progress bar."""
    from rich.progress import Progress

    from engine.processes.importer import import_readings, parse_file

    runtime = Runtime.from_settings()
    tune_garbage_collector(runtime.settings)
    try:
        parsed = parse_file(runtime, file, tenant, customer, fmt)
    except NudgeError as exc:
        raise typer.BadParameter(exc.detail or exc.title) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with Progress(console=console) as progress:
        task = progress.add_task(f"importing {file.name}", total=len(parsed.rows))
        report = import_readings(
            runtime, tenant, parsed, batch_size, lambda n: progress.advance(task, n)
        )
    _print_report(report)


@app.command()
def demo(
    data: Annotated[
        Path | None,
        typer.Option(help="folder with the Green Button sample years (../shared/data/greenbutton)"),
    ] = None,
) -> None:
    """Set up a demo tenant, replay a year of data, dispatch, show what happened."""
    from sqlalchemy import inspect

    from engine.processes.demo.report import print_report
    from engine.processes.demo.run import run_demo

    runtime = Runtime.from_settings()
    try:
        if not inspect(runtime.db).has_table("tenants"):
            console.print("[red]the database has no schema yet: run `nudge db upgrade`[/red]")
            raise typer.Exit(1)
        report = run_demo(runtime, data, lambda text: console.print(text, highlight=False))
    finally:
        runtime.db.dispose()
    print_report(report, Console())


def _print_report(report: ImportReport) -> None:
    from rich.table import Table

    table = Table("rows", "accepted", "duplicate", "corrected", "rejected", "notifications")
    table.add_row(
        *(
            str(getattr(report, c))
            for c in ("rows", "accepted", "duplicate", "corrected", "rejected", "notifications")
        )
    )
    console.print(table)
    for rejection in report.rejections[:20]:
        field = f", {rejection.field}" if rejection.field else ""
        console.print(f"  row {rejection.index}{field}: {rejection.reason}", highlight=False)
    if len(report.rejections) > 20:
        console.print(f"  … and {len(report.rejections) - 20} more rejected rows")
    for note in report.notes:
        console.print(f"  note: {note}")


if __name__ == "__main__":
    app()
