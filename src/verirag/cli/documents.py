"""Documents: ingest, list, history, show, diff, check, reindex, config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from verirag.ingest import Outcome, parse_meta

if TYPE_CHECKING:
    pass

from verirag.chunking import page_range
from verirag.cli.app import (
    app,
    doc_or_exit,
    err,
    kb_path,
    open_kb,
    open_local,
    out,
    outcome_line,
    print_summary,
    progress_bar,
    split_spec,
    when,
)
from verirag.client import Remote
from verirag.errors import InvalidInput, NotFound


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files and directories")],
    sync: Annotated[
        bool, typer.Option(help="mirror: tombstone documents no longer present")
    ] = False,
    watch: Annotated[bool, typer.Option(help="keep following the directory for changes")] = False,
    access: Annotated[
        list[str] | None, typer.Option("--access", "-a", help="access group (repeatable)")
    ] = None,
    meta: Annotated[
        list[str] | None, typer.Option("--meta", "-m", help="metadata key=value")
    ] = None,
    prefix: Annotated[str, typer.Option(help="prefix for document ids")] = "",
    follow_symlinks: Annotated[
        bool, typer.Option(help="follow file symlinks that lead out of the folder")
    ] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", help="skip paths matching GLOB (.gitignore syntax)"),
    ] = None,
    include_all: Annotated[
        bool,
        typer.Option(
            "--include-all",
            help="also ingest node_modules, .git, __pycache__, .venv, dist, build and what "
            ".gitignore files exclude",
        ),
    ] = False,
) -> None:
    """Ingest files and folders: new and changed documents get a new version, unchanged ones
    are left alone, and what is skipped (hidden, excluded, unsupported, too large) or failed
    is listed with its reason. Exit code 1 if any file failed. Through the server that owns
    the knowledge base, when one does."""
    try:
        metadata = parse_meta(meta) if meta else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--meta") from exc
    if watch and (len(paths) != 1 or not paths[0].is_dir()):
        raise typer.BadParameter("--watch follows exactly one directory", param_hint="--watch")
    with open_kb() as kb:
        if watch and isinstance(kb, Remote):
            kb.watch(paths[0])  # refused: the server follows folders (serve --watch)
        with progress_bar() as bar:
            task = bar.add_task("ingesting", total=None)
            embed_task = bar.add_task("embedding", total=None, visible=False)

            def progress(outcome: Outcome, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=outcome.doc_id[-40:])

            def embedding(done: int, total: int) -> None:
                bar.update(embed_task, completed=done, total=total, visible=True)

            try:
                report = kb.ingest(
                    *paths,
                    sync=sync,
                    prefix=prefix,
                    access=access,
                    metadata=metadata,
                    on_progress=progress,
                    on_embed=embedding,
                    follow_symlinks=follow_symlinks,
                    exclude=exclude or (),
                    include_all=include_all,
                )
            except InvalidInput as exc:  # --sync with files
                raise typer.BadParameter(str(exc), param_hint="--sync") from None
        print_summary(report)
        if watch:
            out.print(f"Watching {paths[0]} (Ctrl-C to stop)")
            kb.watch(
                paths[0],
                prefix=prefix,
                access=access,
                metadata=metadata,
                on_progress=lambda o, _d, _t: outcome_line(o),
                exclude=exclude or (),
                include_all=include_all,
            )
    if report.failed:
        raise typer.Exit(1)


@app.command("docs")
def list_docs(
    all_: Annotated[bool, typer.Option("--all", help="include removed documents")] = False,
) -> None:
    """List documents with their current version."""
    with open_kb() as kb:
        found = kb.documents(include_removed=all_)
        counts = kb.catalog.counts()
    table = Table(title=f"{counts['documents']} documents, {counts['versions']} versions")
    for column in ("document", "version", "title", "format", "chunks", "access", "updated (UTC)"):
        table.add_column(column, justify="right" if column in ("version", "chunks") else "left")
    for d in found:
        version = str(d.current_version) if d.current_version else Text("removed", style="magenta")
        table.add_row(
            d.doc_id,
            version,
            d.title or "",
            d.format or "",
            str(d.n_chunks),
            ", ".join(d.access),
            when(d.updated_at),
        )
    out.print(table)


@app.command()
def history(doc: Annotated[str, typer.Argument(help="document id")]) -> None:
    """Every version of a document, oldest first."""
    with open_kb() as kb:
        doc_or_exit(kb, doc)
        versions = kb.history(doc)
    table = Table(title=f"History of {doc}")
    with_meta = any(v.metadata for v in versions)
    columns = ["version", "ingested (UTC)", "status", "title", "chunks", "sha256", "access"]
    for column in columns + (["metadata"] if with_meta else []):
        table.add_column(column)
    for v in versions:
        status = "removed" if v.tombstone else ("current" if v.current else "superseded")
        cells = [
            str(v.version),
            when(v.ingested_at),
            status,
            v.title or "",
            str(v.n_chunks),
            (v.content_hash or "")[:10],
            ", ".join(v.access),
        ]
        if with_meta:
            cells.append(", ".join(f"{k}={val}" for k, val in v.metadata.items()))
        table.add_row(*cells)
    out.print(table)


@app.command()
def show(
    spec: Annotated[
        str, typer.Argument(metavar="DOC[@VERSION]", help="document, optionally @version")
    ],
    chunks: Annotated[bool, typer.Option(help="list the chunks instead of the text")] = False,
) -> None:
    """Show a version of a document: its text, or its chunks with their locations."""
    doc, number = split_spec(spec)
    with open_kb() as kb:
        doc_or_exit(kb, doc)
        try:
            v = kb.version(doc, number)
        except KeyError:
            err.print(f"[red]{doc} has no version {number}[/red] (see `verirag history {doc}`)")
            raise typer.Exit(2) from None
        pieces = kb.chunks(doc, v.version) if chunks and not v.tombstone else []
    state = "removed" if v.tombstone else ("current" if v.current else "superseded")
    out.print(
        f"[bold]{doc}[/bold] version {v.version} ({state}), ingested {when(v.ingested_at)} UTC"
    )
    out.print(
        f"title: {v.title or '-'}   format: {v.format or '-'}   access: {', '.join(v.access)}"
    )
    if v.metadata:
        out.print("metadata: " + ", ".join(f"{k}={val}" for k, val in v.metadata.items()))
    if v.tombstone:
        return
    if not chunks:
        out.print()
        out.print(v.text or "", markup=False, highlight=False)
        return
    table = Table(show_lines=True)
    for column in ("#", "section", "page", "lines", "chars", "tokens", "text"):
        table.add_column(column)
    for c in pieces:
        pages = page_range(c.page_start, c.page_end)
        lines = "" if c.line_start is None else f"{c.line_start}-{c.line_end}"
        table.add_row(
            str(c.ordinal),
            " > ".join(c.section),
            pages,
            lines,
            f"{c.char_start}-{c.char_end}",
            str(c.n_tokens),
            Text(c.text),
        )
    out.print(table)


@app.command()
def diff(
    doc: Annotated[str, typer.Argument(help="document id")],
    old: Annotated[int, typer.Argument(help="older version")],
    new: Annotated[int, typer.Argument(help="newer version")],
) -> None:
    """Unified diff between two versions of a document's text."""
    with open_kb() as kb:
        doc_or_exit(kb, doc)
        try:
            lines = kb.diff(doc, old, new)
        except NotFound as exc:
            err.print(f"[red]{exc}[/red] (see `verirag history {doc}`)")
            raise typer.Exit(2) from None
    if not lines:
        out.print("no differences")
    for line in lines:
        style = (
            "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else None
        )
        out.print(Text(line, style=style or ""))


@app.command()
def check() -> None:
    """Verify the catalog: every committed document whole, chunks matching their spans."""
    with open_kb() as kb:
        problems = kb.check()
        counts = kb.catalog.counts()
    if problems:
        for problem in problems:
            err.print(f"[red]{problem}[/red]")
        raise typer.Exit(1)
    documents, versions, chunks = counts["documents"], counts["versions"], counts["chunks"]
    out.print(f"ok: {documents} documents, {versions} versions, {chunks} chunks")


@app.command()
def reindex() -> None:
    """Rebuild the search index from the catalog (vectors come from the embedding cache)."""
    with open_kb() as kb, progress_bar() as bar:
        task = bar.add_task("indexing", total=None)
        embedded = kb.reindex(lambda done, total: bar.update(task, completed=done, total=total))
        counts = kb.catalog.counts()
    out.print(
        f"reindexed {counts['documents']} documents; {embedded} chunks embedded, the rest cached"
    )


@app.command()
def migrate(
    destination: Annotated[Path, typer.Argument(help="directory of the new knowledge base")],
    to_catalog: Annotated[
        str | None,
        typer.Option(help="its catalog: postgresql://... (default: SQLite in the directory)"),
    ] = None,
    to_index: Annotated[
        str | None,
        typer.Option(help="its index: qdrant://HOST:PORT/COLLECTION (default: embedded)"),
    ] = None,
) -> None:
    """Copy the knowledge base into a new one on another profile (embedded to cluster, or
    back): documents, versions, history, audit, keys, evaluation runs and cached vectors, as
    they were; its index is built from the copy without embedding anything again."""
    with open_local() as kb, progress_bar() as bar:
        task = bar.add_task("indexing", total=None)
        copied = kb.migrate(
            destination,
            catalog=to_catalog,
            index=to_index,
            on_embed=lambda done, total: bar.update(task, completed=done, total=total),
        )
    rows = ", ".join(f"{n} {name}" for name, n in copied.items() if n)
    out.print(f"migrated to {destination}: {rows}")


@app.command("config")
def config_(
    changes: Annotated[
        list[str] | None,
        typer.Argument(help="KEY=VALUE settings to change (JSON values; none for null)"),
    ] = None,
) -> None:
    """Show the knowledge base's settings, or change its query-time ones (``history_days=365``);
    a change takes effect when the knowledge base is next opened."""
    import json
    import typing

    from pydantic import ValidationError

    from verirag.config import Config

    target = kb_path()
    if not (target / "verirag.json").is_file():
        err.print(f"no knowledge base at {target}")
        raise typer.Exit(1)
    if not changes:
        out.print_json((Config.load(target) or Config()).model_dump_json())
        return
    parsed: dict[str, object] = {}
    for change in changes:
        key, sep, raw = change.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{change!r}: expected KEY=VALUE")
        field = Config.model_fields.get(key)
        nullable = field is not None and type(None) in typing.get_args(field.annotation)
        try:
            parsed[key] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key] = None if nullable and raw.lower() == "none" else raw
    try:
        config = Config.configure(target, **parsed)
    except ValidationError as exc:
        problems = "; ".join(
            ": ".join(part for part in (".".join(map(str, e["loc"])), e["msg"]) if part)
            for e in exc.errors()
        )
        raise typer.BadParameter(problems) from None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    out.print_json(config.model_dump_json())
