"""Search and answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from verirag.retrieval import Mode, SearchOptions

if TYPE_CHECKING:
    pass

from verirag.cli.app import (
    AsOfOption,
    FilterOption,
    GroupOption,
    LlmOption,
    app,
    err,
    location,
    open_kb,
    out,
    parse_filters,
)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="what to look for")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="results")] = 10,
    as_of: AsOfOption = None,
    explain: Annotated[bool, typer.Option(help="show every stage's score and rank")] = False,
    mode: Annotated[Mode, typer.Option(help="retrieval mode")] = Mode.HYBRID,
    group: GroupOption = None,
    filter_: FilterOption = None,
) -> None:
    """Ranked chunks with their document, version, section and location."""
    with open_kb() as kb:
        try:
            results = kb.search(
                query,
                k=k,
                as_of=as_of,
                groups=group,
                metadata=parse_filters(filter_),
                options=SearchOptions(mode=mode),
            )
        except ValueError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    if not results:
        out.print("no results")
        return
    table = Table(show_lines=True)
    for column in ("#", "document", "section", "where", "score", "text"):
        table.add_column(column, overflow="fold")
    if explain:
        table.add_column("stages")
    for rank, r in enumerate(results, start=1):
        snippet = r.text if len(r.text) <= 300 else r.text[:297] + "..."
        row: list[str | Text] = [
            str(rank),
            f"{r.doc_id}@{r.version}",
            " > ".join(r.section),
            location(r),
            f"{r.score:.3f}",
            Text(snippet),
        ]
        if explain:
            row.append(
                "\n".join(
                    f"{stage}: {score:.3f} (#{r.ranks.get(stage, '-')})"
                    for stage, score in r.scores.items()
                )
            )
        table.add_row(*row)
    out.print(table)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="chunks to read")] = 8,
    as_of: AsOfOption = None,
    llm: LlmOption = None,
    schema: Annotated[
        Path | None,
        typer.Option("--schema", exists=True, dir_okay=False, help="JSON Schema of the answer"),
    ] = None,
    group: GroupOption = None,
    filter_: FilterOption = None,
    history: Annotated[
        list[str] | None,
        typer.Option(
            "--history", help="an earlier question of the conversation (repeat, oldest first)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
) -> None:
    """A grounded answer with numbered citations (document, section, page, version), every
    sentence checked against its sources; the answer id opens its audit trace. A follow-up
    with ``--history`` is answered as the standalone question made from it."""
    from verirag.generation import GenerationError

    try:
        shape = json.loads(schema.read_text(encoding="utf-8")) if schema else None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--schema") from exc
    with open_kb() as kb:
        try:
            answer = kb.ask(
                question,
                k=k,
                as_of=as_of,
                groups=group,
                metadata=parse_filters(filter_),
                llm=llm,
                schema=shape,
                history=history or (),
            )
        except (ValueError, GenerationError) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    if as_json:
        out.print_json(json.dumps(answer.to_json()))
        return
    if answer.standalone and answer.standalone != question:
        out.print(Text(f"searched as: {answer.standalone} ({answer.rewrite})"), style="dim")
    out.print(Text(answer.text), style="yellow" if answer.abstained else None)
    for claim in answer.unsupported:
        out.print(f"[red]unsupported:[/red] {claim.text} ({claim.reason})")
    if not answer.abstained:
        for source in answer.cited:
            out.print(f"[dim]{source.label()}[/dim]")
    out.print(f"[dim]answer id {answer.answer_id} (verirag audit show {answer.answer_id})[/dim]")
