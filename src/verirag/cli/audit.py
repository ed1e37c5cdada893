"""The audit trail and the reports made from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    pass

from verirag.cli.app import (
    app,
    err,
    open_kb,
    out,
    when,
)

audit_app = typer.Typer(help="The audit trail: every answer's trace.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, help="newest N answers")] = 20,
) -> None:
    """Recent answers, newest first."""
    with open_kb() as kb:
        records = list(kb.audit.records(limit=limit))
    table = Table()
    for column in ("answer id", "when", "question", "model", "abstained", "cost"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            r.answer_id,
            when(r.created_at),
            r.question,
            r.model,
            "yes" if r.abstained else "",
            f"{r.cost:.6f}",
        )
    out.print(table)


@audit_app.command("show")
def audit_show(answer_id: Annotated[str, typer.Argument(help="answer id")]) -> None:
    """One answer's whole trace as JSON."""
    with open_kb() as kb:
        try:
            record = kb.audit.get(answer_id)
        except KeyError as exc:
            err.print(f"[red]{exc.args[0]}[/red]")
            raise typer.Exit(1) from None
    out.print_json(json.dumps(record.to_json()))


@audit_app.command("export")
def audit_export(
    path: Annotated[Path, typer.Option("--out", "-o", help="JSONL file")] = Path("audit.jsonl"),
    feedback: Annotated[
        bool, typer.Option("--feedback", help="only answers with feedback (kept in each line)")
    ] = False,
) -> None:
    """Every trace as one JSON line, oldest first, with the feedback given on it."""
    with open_kb() as kb:
        n = kb.audit.export(path, rated=feedback)
    rated = " with feedback" if feedback else ""
    out.print(f"wrote {n} answers{rated} to {path}")


report_app = typer.Typer(help="Reports from the audit trail.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("cost")
def report_cost(
    by: Annotated[str, typer.Option(help="group by day (UTC) or model")] = "day",
    days: Annotated[int | None, typer.Option(min=1, help="only the last N days")] = None,
) -> None:
    """Answers, tokens and estimated cost per day (or per model), from the audit trail;
    prices come from the `prices` setting (USD per million tokens, per model)."""
    import time

    from verirag.evaluation.cost import cost_rows

    if by not in ("day", "model"):
        raise typer.BadParameter("day or model", param_hint="--by")
    since = time.time() - days * 86400 if days else None
    with open_kb() as kb:
        rows = cost_rows(kb.audit.records(since=since), by=by)
    table = Table(by, "answers", "tokens in", "tokens out", "cost (USD)", "per answer")
    for row in rows:
        table.add_row(
            row.key,
            str(row.answers),
            f"{row.tokens_in:,}",
            f"{row.tokens_out:,}",
            f"{row.cost:.4f}",
            f"{row.per_answer:.6f}",
            style="bold" if row.key == "total" else None,
        )
    out.print(table)
