"""The root command, its ``--kb`` option, and what every command group shares: consoles,
progress bars, outcome lines, filters and locations."""

from __future__ import annotations

import contextvars
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from verirag.chunking import page_range
from verirag.client import Remote, connect
from verirag.config import Config
from verirag.errors import VeriragError
from verirag.ingest import IngestReport, Outcome, Status, parse_meta
from verirag.kb import DEFAULT_PATH, KnowledgeBase
from verirag.owner import Busy
from verirag.retrieval import SearchResult

if TYPE_CHECKING:
    from verirag.evaluation.beir import BeirData


app = typer.Typer(
    help="verirag: versioned, cited knowledge from your own documents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _console(*, stderr: bool = False) -> Console:
    """A console that wraps to the terminal, or not at all when piped: a table or a diff
    read by another program keeps its lines whole."""
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)


PIPED_WIDTH = 10_000
out = _console()
err = _console(stderr=True)

STYLE = {
    Status.NEW: "green",
    Status.CHANGED: "yellow",
    Status.UNCHANGED: "dim",
    Status.REMOVED: "magenta",
    Status.SKIPPED: "cyan",
    Status.FAILED: "red",
}


# The root ``--kb`` option, for the command that runs after it. Typer 0.29 vendors click and
# exposes no current context, so a context variable carries it (one per thread or task).
_KB_PATH: contextvars.ContextVar[Path] = contextvars.ContextVar(
    "kb_path", default=Path(DEFAULT_PATH)
)


# The root ``--catalog`` and ``--index`` options: where the catalog and the index live.
_LOCATIONS: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("locations")


def kb_path() -> Path:
    """The knowledge-base directory the root ``--kb`` option names."""
    return _KB_PATH.get()


def kb_config() -> Config | None:
    """The stored settings with the root ``--catalog`` / ``--index`` options in them (stored
    from then on), or ``None`` (the stored settings) when neither is given."""
    given = _LOCATIONS.get({})
    if not given:
        return None
    return (Config.load(kb_path()) or Config()).model_copy(update=given)


def open_local() -> KnowledgeBase:
    """The knowledge base itself, for the commands that need its files (evaluations that
    tune or ablate, serving); :class:`verirag.owner.Busy` while another process owns it."""
    return KnowledgeBase(kb_path(), config=kb_config())


def open_kb() -> KnowledgeBase | Remote:
    """The knowledge base, or, while a server owns it, that server (the same methods)."""
    path = kb_path()
    try:
        return KnowledgeBase(path, config=kb_config())
    except Busy:
        remote = connect(path)
        if remote is None:
            raise
        return remote


def run() -> None:
    """The ``verirag`` command: an expected error (a bad option, a knowledge base another
    process owns, a server that does not answer) is one line on stderr and a non-zero exit
    code, not a traceback or a usage box."""
    try:
        code = app(prog_name="verirag", standalone_mode=False)
    except typer.TyperException as exc:  # a usage error: bad option, missing argument
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "verirag"
        err.print(f"{where}: {exc.format_message()} (see `{where} --help`)", highlight=False)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except VeriragError as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


@app.callback()
def main(
    kb: Annotated[
        Path, typer.Option("--kb", envvar="VERIRAG_KB", help="knowledge-base directory")
    ] = Path(DEFAULT_PATH),
    catalog: Annotated[
        str | None,
        typer.Option(
            envvar="VERIRAG_CATALOG",
            help="the catalog's database: postgresql://USER:PASSWORD@HOST:PORT/DB (stored)",
        ),
    ] = None,
    index: Annotated[
        str | None,
        typer.Option(
            envvar="VERIRAG_INDEX",
            help="the index: qdrant://HOST:PORT/COLLECTION or qdrant+local:PATH (stored)",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="log what verirag does (llama.cpp's log too)")
    ] = False,
) -> None:
    _KB_PATH.set(kb)
    if verbose:
        logging.basicConfig(format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("verirag").setLevel(logging.DEBUG)
    given = {"catalog": catalog, "index": index}
    _LOCATIONS.set({k: v for k, v in given.items() if v is not None})


def print_summary(report: IngestReport) -> None:
    counts = report.counts()
    summary = Table(title="Ingest summary", show_edge=False)
    for status in Status:
        summary.add_column(status.value, justify="right", style=STYLE[status])
    summary.add_row(*(str(counts[s]) for s in Status))
    out.print(summary)
    listed = [o for o in report.outcomes if o.status is not Status.UNCHANGED]
    if not listed:
        return
    detail = Table(show_edge=False, box=None, pad_edge=False)
    detail.add_column("status")
    detail.add_column("document")
    detail.add_column("version", justify="right")
    detail.add_column("chunks", justify="right")
    detail.add_column("reason")
    limit = 50
    for o in listed[:limit]:
        detail.add_row(
            Text(o.status.value, style=STYLE[o.status]),
            o.doc_id,
            str(o.version or ""),
            str(o.n_chunks or ""),
            o.reason or "",
        )
    out.print(detail)
    if len(listed) > limit:
        out.print(f"... and {len(listed) - limit} more")


def outcome_line(outcome: Outcome) -> None:
    suffix = f" v{outcome.version}" if outcome.version else ""
    reason = f": {outcome.reason}" if outcome.reason else ""
    out.print(
        Text(
            f"{outcome.status.value:9} {outcome.doc_id}{suffix}{reason}",
            style=STYLE[outcome.status],
        )
    )


def doc_or_exit(kb: KnowledgeBase | Remote, doc_id: str) -> None:
    try:
        kb.history(doc_id)
    except KeyError:
        err.print(f"[red]no document {doc_id!r}[/red] (see `verirag docs`)")
        raise typer.Exit(2) from None


def split_spec(spec: str) -> tuple[str, int | None]:
    doc, sep, version = spec.rpartition("@")
    if sep and version.isdigit():
        return doc, int(version)
    return spec, None


def parse_filters(pairs: list[str] | None) -> dict[str, Any] | None:
    if not pairs:
        return None
    try:
        return dict(parse_meta(pairs))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--filter") from exc


def location(r: SearchResult) -> str:
    parts = []
    if r.page_start is not None:
        parts.append(page_range(r.page_start, r.page_end))
    if r.line_start is not None:
        parts.append(f"lines {r.line_start}-{r.line_end}")
    return ", ".join(parts)


# Options that search and ask share: what a query may see.
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="read the versions valid then (ISO date/time, UTC)"),
]
GroupOption = Annotated[
    list[str] | None, typer.Option("--group", "-g", help="run as a principal in GROUP")
]
FilterOption = Annotated[
    list[str] | None, typer.Option("--filter", help="metadata key=value (repeatable)")
]
# Which generator answers: ask and the evaluations that ask.
LlmOption = Annotated[
    str | None, typer.Option("--llm", help="extractive (default), openai:MODEL@URL or gguf:PATH")
]


class RateColumn(ProgressColumn):
    """Items per second, once there is a rate."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f}/s" if speed else "", style="progress.data.speed")


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def load_beir_or_exit(folder: Path, split: str) -> BeirData:
    from verirag.evaluation import load_beir

    try:
        return load_beir(folder, split)
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def ingest_corpus(kb: KnowledgeBase, data: BeirData, bar: Progress) -> None:
    """A data set's corpus into ``kb`` (a no-op once it is there), with progress bars."""
    task = bar.add_task(f"ingesting {data.name}", total=len(data.corpus))
    embed_task = bar.add_task("embedding", total=None, visible=False)
    kb.ingest_texts(
        data.corpus,
        on_progress=lambda _o, done, total: bar.update(task, completed=done, total=total),
        on_embed=lambda done, total: bar.update(
            embed_task, completed=done, total=total, visible=True
        ),
    )
