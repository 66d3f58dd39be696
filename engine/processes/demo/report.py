"""Print what the demo set up and what happened, with rich."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from engine.processes.demo.cast import DemoCustomer
from engine.processes.demo.outcome import CustomerOutcome
from engine.processes.demo.rules import DEMO_RULES
from engine.processes.demo.run import DemoReport

STATUS_STYLE = {
    "sent": "green",
    "deferred": "yellow",
    "scheduled": "cyan",
    "suppressed": "red",
    "cancelled": "magenta",
    "failed": "red",
}


def print_report(report: DemoReport, console: Console) -> None:
    console.rule(f"[bold]nudge demo: {report.setup.tenant_name}")
    console.print(_rules_table())
    _print_templates(report.setup.templates, console)
    _print_customers(report, console)
    console.print(_outcomes_table(report.outcomes))
    _print_reasons(report.outcomes, console)
    _print_examples(report.outcomes, console)
    _print_footer(report, console)


def _rules_table() -> Table:
    table = Table("rule", "kind", "watches", "condition", title="Published rules")
    for rule in DEMO_RULES:
        watches = rule.get("metric") or rule.get("event_type") or ""
        if rule.get("window"):
            watches += f", {rule['aggregate']} per {rule['window']}"
        table.add_row(rule["key"], rule["kind"], watches, rule["condition"])
    return table


def _print_templates(lines: Sequence[str], console: Console) -> None:
    console.print("[bold]Templates[/bold]")
    for line in lines:
        console.print(f"  {line}", highlight=False)


def _print_customers(report: DemoReport, console: Console) -> None:
    console.print("[bold]Customers[/bold]")
    for o in report.outcomes:
        c = o.customer
        console.print(
            f"  [bold]{c.name}[/bold] {c.locale}, {c.timezone}: {c.story}", highlight=False
        )
        console.print(f"    {_triggers(c)}", highlight=False)
        console.print(f"    [dim]data: {report.sources.get(c.external_id, '')}[/dim]")


def _triggers(c: DemoCustomer) -> str:
    shown = []
    for t in c.triggers:
        params = ", ".join(f"{k}={v}" for k, v in t.params.items())
        via = f" via {'/'.join(t.channels)}" if t.channels else ""
        shown.append(f"{t.rule} ({params}){via}")
    return "; ".join(shown)


def _outcomes_table(outcomes: Sequence[CustomerOutcome]) -> Table:
    columns = [s for s in STATUS_STYLE if s == "sent" or any(o.statuses[s] for o in outcomes)]
    table = Table("customer", *columns, "sent on", title="Notifications")
    for o in outcomes:
        counts = [_count(o.statuses[s], STATUS_STYLE[s]) for s in columns]
        channels = ", ".join(f"{v} {k}" for k, v in sorted(o.sent_by_channel.items()))
        table.add_row(o.customer.name, *counts, channels or "-")
    return table


def _count(value: int, style: str) -> str:
    return f"[{style}]{value}[/{style}]" if value else "[dim]0[/dim]"


def _print_reasons(outcomes: Sequence[CustomerOutcome], console: Console) -> None:
    console.print("[bold]Not sent now, and why[/bold]")
    for o in outcomes:
        for (status, reason), count in sorted(o.reasons.items()):
            style = STATUS_STYLE.get(status, "white")
            console.print(
                f"  {o.customer.name}: [{style}]{count} {status}[/{style}], {reason}",
                highlight=False,
            )


def _print_examples(outcomes: Sequence[CustomerOutcome], console: Console) -> None:
    console.print("[bold]Some of the messages[/bold]")
    for o in outcomes:
        for example in o.examples:
            console.print(
                f"  {o.customer.name} [dim]({example.channel}, {example.rule})[/dim]: "
                f"{example.headline} [dim]{example.file}[/dim]",
                highlight=False,
            )


KIND_NAMES = {"email": ("email", "emails"), "sms": ("SMS", "SMS"), "voice": ("call", "calls")}
FILE_KINDS = {"email": ".eml for email", "sms": ".json for SMS", "voice": ".json (TwiML) for calls"}


def outbox_line(report: DemoReport) -> str:
    """How many messages of each kind the outbox holds, naming only kinds that went out."""
    outbox_kinds = sorted(k for k, v in report.channels.items() if v == "outbox")
    written = {k: sum(o.sent_by_channel[k] for o in report.outcomes) for k in outbox_kinds}
    counts = [_counted(n, kind) for kind, n in written.items() if n]
    if not counts:
        return "No message went out yet, so the outbox is empty." if outbox_kinds else ""
    files = "; ".join(FILE_KINDS.get(k, k) for k, n in written.items() if n)
    return f"The outbox {report.outbox} holds {' and '.join(counts)} ({files})."


def _counted(n: int, kind: str) -> str:
    one, many = KIND_NAMES.get(kind, (kind, kind))
    return f"{n} {one if n == 1 else many}"


def _print_footer(report: DemoReport, console: Console) -> None:
    line = outbox_line(report)
    if line:
        console.print(f"\n{line}", highlight=False)
    if report.data_folder is None:
        console.print(
            "No ../shared/data/greenbutton folder was found: the readings were generated."
        )
    console.print(
        "The readings are from 2011 and the rules notify however late a window turns true, "
        "so every decision was made now, and quiet hours and frequency caps apply to the "
        "current time. Deferred and scheduled messages wait in the database: "
        "`nudge worker` (or `nudge serve`) sends them when they are due."
    )
    console.print(f"Done in {report.seconds:.1f} s. To explore with the API (`nudge serve`):")
    console.print(f"  ops key  {report.setup.ops_key}", highlight=False, soft_wrap=True)
    console.print(f"  feed key {report.setup.feed_key}", highlight=False, soft_wrap=True)
