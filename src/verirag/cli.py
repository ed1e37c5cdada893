"""Command line: ``verirag ingest | docs | history | show | diff | check | search | ask |
audit | reindex | eval | tune | report | advise | serve | mcp | keys``."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from verirag.config import Config
from verirag.ingest import IngestReport, Outcome, Status, parse_meta
from verirag.kb import DEFAULT_PATH, KnowledgeBase
from verirag.retrieval import Mode, SearchOptions, SearchResult

if TYPE_CHECKING:
    from verirag.evaluation.beir import BeirData
    from verirag.tuning.reranker import Group

app = typer.Typer(
    help="verirag: versioned, cited knowledge from your own documents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

_STYLE = {
    Status.NEW: "green",
    Status.CHANGED: "yellow",
    Status.UNCHANGED: "dim",
    Status.REMOVED: "magenta",
    Status.FAILED: "red",
}


class _State:
    kb_path: Path = Path(DEFAULT_PATH)


def _open() -> KnowledgeBase:
    return KnowledgeBase(_State.kb_path)


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


@app.callback()
def main(
    kb: Annotated[
        Path, typer.Option("--kb", envvar="VERIRAG_KB", help="knowledge-base directory")
    ] = Path(DEFAULT_PATH),
) -> None:
    _State.kb_path = kb


def _print_summary(report: IngestReport) -> None:
    counts = report.counts()
    summary = Table(title="Ingest summary", show_edge=False)
    for status in Status:
        summary.add_column(status.value, justify="right", style=_STYLE[status])
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
            Text(o.status.value, style=_STYLE[o.status]),
            o.doc_id,
            str(o.version or ""),
            str(o.n_chunks or ""),
            o.reason or "",
        )
    out.print(detail)
    if len(listed) > limit:
        out.print(f"... and {len(listed) - limit} more")


def _outcome_line(outcome: Outcome) -> None:
    suffix = f" v{outcome.version}" if outcome.version else ""
    reason = f": {outcome.reason}" if outcome.reason else ""
    out.print(
        Text(
            f"{outcome.status.value:9} {outcome.doc_id}{suffix}{reason}",
            style=_STYLE[outcome.status],
        )
    )


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
) -> None:
    """Ingest files and folders: new and changed documents get a new version, unchanged ones
    are skipped, bad files are reported and skipped. Exit code 1 if any file failed."""
    try:
        metadata = parse_meta(meta) if meta else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--meta") from exc
    if sync and any(p.is_file() for p in paths):
        raise typer.BadParameter("--sync mirrors directories, not files", param_hint="--sync")
    if watch and (len(paths) != 1 or not paths[0].is_dir()):
        raise typer.BadParameter("--watch follows exactly one directory", param_hint="--watch")
    with _open() as kb:
        with _bar() as bar:
            task = bar.add_task("ingesting", total=None)
            embed_task = bar.add_task("embedding", total=None, visible=False)

            def progress(outcome: Outcome, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=outcome.doc_id[-40:])

            def embedding(done: int, total: int) -> None:
                bar.update(embed_task, completed=done, total=total, visible=True)

            report = kb.ingest(
                *paths,
                sync=sync,
                prefix=prefix,
                access=access,
                metadata=metadata,
                on_progress=progress,
                on_embed=embedding,
                follow_symlinks=follow_symlinks,
            )
        _print_summary(report)
        if watch:
            out.print(f"Watching {paths[0]} (Ctrl-C to stop)")
            kb.watch(
                paths[0],
                prefix=prefix,
                access=access,
                metadata=metadata,
                on_progress=lambda o, _d, _t: _outcome_line(o),
            )
    if report.failed:
        raise typer.Exit(1)


@app.command("docs")
def list_docs(
    all_: Annotated[bool, typer.Option("--all", help="include removed documents")] = False,
) -> None:
    """List documents with their current version."""
    with _open() as kb:
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
            _when(d.updated_at),
        )
    out.print(table)


def _doc_or_exit(kb: KnowledgeBase, doc_id: str) -> None:
    try:
        kb.history(doc_id)
    except KeyError:
        err.print(f"[red]no document {doc_id!r}[/red] (see `verirag docs`)")
        raise typer.Exit(2) from None


@app.command()
def history(doc: Annotated[str, typer.Argument(help="document id")]) -> None:
    """Every version of a document, oldest first."""
    with _open() as kb:
        _doc_or_exit(kb, doc)
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
            _when(v.ingested_at),
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


def _split_spec(spec: str) -> tuple[str, int | None]:
    doc, sep, version = spec.rpartition("@")
    if sep and version.isdigit():
        return doc, int(version)
    return spec, None


@app.command()
def show(
    spec: Annotated[
        str, typer.Argument(metavar="DOC[@VERSION]", help="document, optionally @version")
    ],
    chunks: Annotated[bool, typer.Option(help="list the chunks instead of the text")] = False,
) -> None:
    """Show a version of a document: its text, or its chunks with their locations."""
    doc, number = _split_spec(spec)
    with _open() as kb:
        _doc_or_exit(kb, doc)
        try:
            v = kb.version(doc, number)
        except KeyError:
            err.print(f"[red]{doc} has no version {number}[/red] (see `verirag history {doc}`)")
            raise typer.Exit(2) from None
        pieces = kb.chunks(doc, v.version) if chunks and not v.tombstone else []
    state = "removed" if v.tombstone else ("current" if v.current else "superseded")
    out.print(
        f"[bold]{doc}[/bold] version {v.version} ({state}), ingested {_when(v.ingested_at)} UTC"
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
        pages = (
            ""
            if c.page_start is None
            else f"{c.page_start}" + (f"-{c.page_end}" if c.page_end != c.page_start else "")
        )
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
    with _open() as kb:
        _doc_or_exit(kb, doc)
        try:
            lines = kb.diff(doc, old, new)
        except KeyError as exc:
            err.print(f"[red]no version {exc.args[0]}[/red] (see `verirag history {doc}`)")
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
    with _open() as kb:
        problems = kb.check()
        counts = kb.catalog.counts()
    if problems:
        for problem in problems:
            err.print(f"[red]{problem}[/red]")
        raise typer.Exit(1)
    documents, versions, chunks = counts["documents"], counts["versions"], counts["chunks"]
    out.print(f"ok: {documents} documents, {versions} versions, {chunks} chunks")


def _parse_filters(pairs: list[str] | None) -> dict[str, Any] | None:
    if not pairs:
        return None
    try:
        return dict(parse_meta(pairs))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--filter") from exc


def _location(r: SearchResult) -> str:
    parts = []
    if r.page_start is not None:
        parts.append(
            f"p. {r.page_start}" + (f"-{r.page_end}" if r.page_end != r.page_start else "")
        )
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
    with _open() as kb:
        try:
            results = kb.search(
                query,
                k=k,
                as_of=as_of,
                groups=group,
                metadata=_parse_filters(filter_),
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
            _location(r),
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
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
) -> None:
    """A grounded answer with numbered citations (document, section, page, version), every
    sentence checked against its sources; the answer id opens its audit trace."""
    from verirag.generation import GenerationError

    try:
        shape = json.loads(schema.read_text(encoding="utf-8")) if schema else None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--schema") from exc
    with _open() as kb:
        try:
            answer = kb.ask(
                question,
                k=k,
                as_of=as_of,
                groups=group,
                metadata=_parse_filters(filter_),
                llm=llm,
                schema=shape,
            )
        except (ValueError, GenerationError) as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    if as_json:
        out.print_json(json.dumps(answer.to_json()))
        return
    out.print(Text(answer.text), style="yellow" if answer.abstained else None)
    for claim in answer.unsupported:
        out.print(f"[red]unsupported:[/red] {claim.text} ({claim.reason})")
    if not answer.abstained:
        for source in answer.cited:
            out.print(f"[dim]{source.label()}[/dim]")
    out.print(f"[dim]answer id {answer.answer_id} (verirag audit show {answer.answer_id})[/dim]")


audit_app = typer.Typer(help="The audit trail: every answer's trace.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, help="newest N answers")] = 20,
) -> None:
    """Recent answers, newest first."""
    with _open() as kb:
        records = list(kb.audit.records(limit=limit))
    table = Table()
    for column in ("answer id", "when", "question", "model", "abstained", "cost"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            r.answer_id,
            _when(r.created_at),
            r.question,
            r.model,
            "yes" if r.abstained else "",
            f"{r.cost:.6f}",
        )
    out.print(table)


@audit_app.command("show")
def audit_show(answer_id: Annotated[str, typer.Argument(help="answer id")]) -> None:
    """One answer's whole trace as JSON."""
    with _open() as kb:
        try:
            record = kb.audit.get(answer_id)
        except KeyError as exc:
            err.print(f"[red]{exc.args[0]}[/red]")
            raise typer.Exit(1) from None
    out.print_json(json.dumps(record.to_json()))


@audit_app.command("export")
def audit_export(
    path: Annotated[Path, typer.Option("--out", "-o", help="JSONL file")] = Path("audit.jsonl"),
) -> None:
    """Every trace as one JSON line, oldest first."""
    with _open() as kb:
        n = kb.audit.export(path)
    out.print(f"wrote {n} answers to {path}")


@app.command()
def reindex() -> None:
    """Rebuild the search index from the catalog (vectors come from the embedding cache)."""
    with _open() as kb, _bar() as bar:
        task = bar.add_task("indexing", total=None)
        embedded = kb.reindex(lambda done, total: bar.update(task, completed=done, total=total))
        counts = kb.catalog.counts()
    out.print(
        f"reindexed {counts['documents']} documents; {embedded} chunks embedded, the rest cached"
    )


def _bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def _load_beir(folder: Path, split: str) -> BeirData:
    from verirag.evaluation import load_beir

    try:
        return load_beir(folder, split)
    except FileNotFoundError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _ingest_corpus(kb: KnowledgeBase, data: BeirData, bar: Progress) -> None:
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


eval_app = typer.Typer(help="Measure retrieval and answers on your own data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("retrieval")
def eval_retrieval(
    folder: Annotated[
        Path, typer.Argument(help="a BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/)")
    ],
    split: Annotated[str, typer.Option(help="qrels split")] = "test",
    kb_dir: Annotated[
        Path | None,
        typer.Option(
            "--eval-kb", help="knowledge base for the corpus (default .verirag-eval/NAME)"
        ),
    ] = None,
    reranker: Annotated[
        str | None, typer.Option(help="re-ranker (directory or st:NAME) for the re-rank row")
    ] = None,
    aggregate_by: Annotated[
        str, typer.Option("--aggregate", help="chunk scores to documents: max or sum")
    ] = "max",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the results here too")
    ] = None,
) -> None:
    """nDCG@10, Recall@100, MRR@10 and latency for BM25, dense, hybrid and hybrid + re-rank."""
    from verirag.evaluation import evaluate_retrieval, standard_variants

    data = _load_beir(folder, split)
    target = kb_dir or Path(".verirag-eval") / data.name
    config = None
    if reranker:
        stored = Config.load(target)
        config = (stored or Config()).model_copy(update={"reranker": reranker})
    with KnowledgeBase(target, config=config) as kb, _bar() as bar:
        _ingest_corpus(kb, data, bar)
        variants = standard_variants(with_reranker=kb.config.reranker is not None)
        query_task = bar.add_task("querying", total=len(data.queries) * len(variants))
        results = evaluate_retrieval(
            kb, data, variants, how=aggregate_by, on_query=lambda: bar.advance(query_task)
        )
    rows = [r.row() for r in results]
    table = Table(
        title=f"{data.name} ({split}, {len(data.queries)} queries, {len(data.corpus)} documents)"
    )
    for column in ("variant", "ndcg@10", "recall@100", "mrr@10", "p50_ms", "p95_ms"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for row in rows:
        table.add_row(
            *(
                str(row[c]) if c == "variant" else f"{row[c]:.4f}" if "@" in c else f"{row[c]:.1f}"
                for c in ("variant", "ndcg@10", "recall@100", "mrr@10", "p50_ms", "p95_ms")
            )
        )
    out.print(table)
    out.print("latency: one query (k=10) at the variant's own settings, after the metric run")
    report = {
        "dataset": data.name,
        "split": split,
        "queries": len(data.queries),
        "documents": len(data.corpus),
        "aggregate": aggregate_by,
        "results": rows,
    }
    path = json_path or target / f"eval-{split}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    out.print(f"wrote {path}")


QA_COLUMNS = (
    ("exact_match", "EM"),
    ("f1", "F1"),
    ("containment", "containment"),
    ("retrieval_recall", "recall@k"),
    ("citation_precision", "cite P"),
    ("citation_recall", "cite R"),
    ("abstention_rate", "abstained"),
    ("abstention_precision", "abst P"),
    ("abstention_recall", "abst R"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
    ("tokens_per_question", "tokens/q"),
    ("cost_per_question", "cost/q"),
)


def _cell(value: float | None, key: str) -> str:
    if value is None:
        return "-"
    if key.endswith("_ms") or key == "tokens_per_question":
        return f"{value:.0f}"
    return f"{value:.4f}" if key == "cost_per_question" else f"{value:.3f}"


@eval_app.command("qa")
def eval_qa(
    questions: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSONL of questions")
    ],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="chunks to read")] = 8,
    llm: LlmOption = None,
    ablation: Annotated[
        bool,
        typer.Option(
            "--ablation",
            help="also run the naive pipeline (512-token windows, dense, top 3, no re-rank, "
            "no citation check) and show both",
        ),
    ] = False,
    group: GroupOption = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the run(s), every question, here")
    ] = None,
    html_path: Annotated[
        Path | None, typer.Option("--html", help="write a self-contained HTML report here")
    ] = None,
) -> None:
    """Answer accuracy on your own questions (JSONL of {"question", "answers": [...],
    "gold_docs": [...], "unanswerable": bool, "metadata": {...}}): exact match, F1,
    containment, retrieval recall, citation precision/recall, abstention, latency, cost."""
    from verirag.evaluation.ablation import ablation as run_ablation
    from verirag.evaluation.qa import QARun, evaluate, read_qa

    try:
        items = read_qa(questions)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="QUESTIONS") from None
    if not items:
        raise typer.BadParameter("no questions in the file", param_hint="QUESTIONS")
    runs: dict[str, QARun]
    with _open() as kb, _bar() as bar:
        tasks: dict[str, Any] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"asking ({name})", total=total)
            bar.update(tasks[name], completed=done)

        if ablation:
            runs = run_ablation(kb, items, k=k, llm=llm, groups=group, on_progress=progress)
        else:
            runs = {
                "full": evaluate(
                    kb,
                    items,
                    k=k,
                    llm=llm,
                    groups=group,
                    on_progress=lambda done, total: progress("full", done, total),
                )
            }
        ids = {name: kb.eval_runs.add(run) for name, run in runs.items()}
    table = Table(title=f"{questions.name}: {len(items)} questions")
    table.add_column("pipeline")
    for _, label in QA_COLUMNS:
        table.add_column(label, justify="right")
    for name, run in runs.items():
        table.add_row(name, *(_cell(run.summary[key], key) for key, _ in QA_COLUMNS))
    out.print(table)
    for name, run in runs.items():
        settings = ", ".join(f"{key} {value}" for key, value in run.settings.items())
        out.print(f"[dim]{name}: {settings}; run {ids[name]}[/dim]")
    report = {name: run.to_json() for name, run in runs.items()}
    if json_path:
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        out.print(f"wrote {json_path}")
    if html_path:
        from verirag.evaluation.report import html_report

        html_path.write_text(html_report(questions.name, runs), encoding="utf-8")
        out.print(f"wrote {html_path}")


@eval_app.command("generate-questions")
def eval_generate_questions(
    out_path: Annotated[Path, typer.Argument(help="JSONL file to write (eval qa reads it)")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="how many questions")] = 100,
    llm: Annotated[
        str | None,
        typer.Option("--llm", help="let this LLM write them (openai:MODEL@URL, gguf:PATH)"),
    ] = None,
) -> None:
    """Bootstrap a question set from your own documents: cloze questions on the quantities
    they state (no LLM), or questions an LLM writes from each chunk. Each names its
    document and source chunk; review them before you trust the scores."""
    from verirag.evaluation.questions import generate_questions

    with _open() as kb:
        made = generate_questions(kb, n, llm=llm)
    if not made:
        err.print("[yellow]no questions: ingest documents first[/yellow]")
        raise typer.Exit(1)
    with out_path.open("w", encoding="utf-8") as handle:
        for question in made:
            handle.write(json.dumps(question.to_json(), ensure_ascii=False) + "\n")
    out.print(f"wrote {len(made)} questions to {out_path}")


@eval_app.command("drift")
def eval_drift(
    scenario: Annotated[
        Path,
        typer.Argument(
            exists=True,
            help="scenario JSON (see docs/evaluation.md), or a folder holding RGB's en_fact",
        ),
    ],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=100, help="chunks to read")] = 8,
    llm: LlmOption = None,
    kb_dir: Annotated[
        Path | None,
        typer.Option("--eval-kb", help="empty knowledge base to run it in (default: temporary)"),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="write the report (every question) here")
    ] = None,
) -> None:
    """Change documents and check the answers follow: fresh-answer rate, stale-citation rate
    (must be 0), time-to-fresh and as-of correctness."""
    import tempfile

    from verirag.evaluation.drift import Scenario, run_drift

    try:
        loaded = Scenario.load(scenario)
    except (ValueError, KeyError) as exc:
        raise typer.BadParameter(str(exc), param_hint="SCENARIO") from None
    with tempfile.TemporaryDirectory() as tmp:
        target = kb_dir or Path(tmp) / "kb"
        if target.exists() and any(target.iterdir()):
            raise typer.BadParameter(f"{target} is not empty", param_hint="--eval-kb")
        with KnowledgeBase(target) as kb, _bar() as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done)

            report = run_drift(kb, loaded, k=k, llm=llm, on_progress=progress)
    table = Table(title=f"drift: {report.scenario}", show_header=False)
    for key, value in report.summary.items():
        table.add_row(
            key,
            "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value),
        )
    out.print(table)
    if json_path:
        json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        out.print(f"wrote {json_path}")


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
    with _open() as kb:
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


@app.command()
def advise(
    queries_per_day: Annotated[float, typer.Option(min=0, help="questions asked per day")] = 1000,
    changes_per_month: Annotated[
        float, typer.Option(min=0, help="documents changed, added or removed per month")
    ] = 50,
    tokens_in: Annotated[
        float | None,
        typer.Option(help="input tokens per answer with retrieval (default: the audit mean)"),
    ] = None,
    tokens_out: Annotated[
        float | None, typer.Option(help="output tokens per answer (default: the audit mean)")
    ] = None,
    price_in: Annotated[float, typer.Option(help="USD per million input tokens")] = 0.15,
    price_out: Annotated[float, typer.Option(help="USD per million output tokens")] = 0.60,
    ft_tokens_in: Annotated[
        float, typer.Option(help="input tokens per answer by a fine-tuned model (no context)")
    ] = 100,
    ft_price_in: Annotated[
        float, typer.Option(help="USD per million input tokens, fine-tuned model")
    ] = 0.30,
    ft_price_out: Annotated[
        float, typer.Option(help="USD per million output tokens, fine-tuned model")
    ] = 1.20,
    retrain_cost: Annotated[
        float, typer.Option(help="USD per fine-tuning run: compute, data work, evaluation")
    ] = 500,
    max_stale_days: Annotated[
        float, typer.Option(min=0.01, help="longest a changed fact may stay wrong")
    ] = 7,
    ingest_cost: Annotated[
        float, typer.Option(help="USD to re-ingest one changed document (local: 0)")
    ] = 0.0,
    months: Annotated[int, typer.Option(min=1, help="horizon")] = 12,
) -> None:
    """Total cost of keeping knowledge in retrieval against fine-tuning a model on it, from
    your figures; every assumption is printed with the result."""
    from verirag.evaluation.cost import Inputs, compare

    measured = ""
    if tokens_in is None or tokens_out is None:
        with _open() as kb:
            llm = [r for r in kb.audit.records() if r.tokens_in > 0]
        if llm:
            measured = f" (mean of {len(llm)} audited LLM answers)"
            tokens_in = tokens_in or sum(r.tokens_in for r in llm) / len(llm)
            tokens_out = tokens_out or sum(r.tokens_out for r in llm) / len(llm)
        else:
            measured = " (assumed: no LLM answer in the audit trail yet)"
            tokens_in, tokens_out = tokens_in or 2500, tokens_out or 150
    assert tokens_in is not None and tokens_out is not None
    inputs = Inputs(
        queries_per_day,
        changes_per_month,
        tokens_in,
        tokens_out,
        price_in,
        price_out,
        ft_tokens_in,
        ft_price_in,
        ft_price_out,
        retrain_cost,
        max_stale_days,
        ingest_cost,
        months,
    )
    result = compare(inputs)
    assumptions = Table("assumption", "value", title="Assumptions")
    for label, value in (
        ("questions per day", f"{queries_per_day:,.0f}"),
        ("documents changed per month", f"{changes_per_month:,.0f}"),
        ("tokens per answer, retrieval", f"{tokens_in:,.0f} in, {tokens_out:,.0f} out{measured}"),
        ("price, retrieval model", f"${price_in}/M in, ${price_out}/M out"),
        ("tokens per answer, fine-tuned", f"{ft_tokens_in:,.0f} in, {tokens_out:,.0f} out"),
        ("price, fine-tuned model", f"${ft_price_in}/M in, ${ft_price_out}/M out"),
        ("cost per fine-tuning run", f"${retrain_cost:,.2f}"),
        ("longest a changed fact may stay wrong", f"{max_stale_days:g} days"),
        ("cost to re-ingest a changed document", f"${ingest_cost:,.4f}"),
        ("horizon", f"{months} months"),
    ):
        assumptions.add_row(label, value)
    out.print(assumptions)
    table = Table("", "retrieval (verirag)", "fine-tuning", title="Comparison")
    table.add_row(
        "per month", f"${result.retrieval_monthly:,.2f}", f"${result.finetune_monthly:,.2f}"
    )
    table.add_row(
        f"over {months} months", f"${result.retrieval_total:,.2f}", f"${result.finetune_total:,.2f}"
    )
    table.add_row("retraining runs per month", "0", f"{result.retrains_per_month:.1f}")
    table.add_row(
        "a changed fact is wrong for",
        "until re-ingested (seconds)",
        f"{result.finetune_mean_stale_days:.1f} days on average",
    )
    table.add_row("answers cite document and version", "yes", "no")
    out.print(table)
    cheaper = "retrieval" if result.retrieval_total <= result.finetune_total else "fine-tuning"
    out.print(
        f"Over {months} months {cheaper} costs less by "
        f"${abs(result.retrieval_total - result.finetune_total):,.2f}. Fine-tuning still "
        "has its place for behaviour (ranking, output format), never for facts."
    )


tune_app = typer.Typer(help="Fine-tune behaviour (ranking), never facts.", no_args_is_help=True)
app.add_typer(tune_app, name="tune")


@tune_app.command("reranker")
def tune_reranker(
    qrels: Annotated[
        Path | None, typer.Option(help="BEIR-layout folder: mine pairs from its judged queries")
    ] = None,
    split: Annotated[str, typer.Option(help="qrels split to train on")] = "train",
    pairs: Annotated[
        Path | None, typer.Option(help='JSONL of {"query", "positive", "negatives": [...]}')
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="where the model goes")] = None,
    layers: Annotated[int, typer.Option(min=1, max=6, help="transformer layers kept")] = 3,
    epochs: Annotated[float, typer.Option(min=0.01, help="passes over the pairs")] = 1.0,
    negatives: Annotated[int, typer.Option(min=1, help="hard negatives per positive")] = 7,
    max_length: Annotated[int, typer.Option(help="tokens per (query, passage) pair")] = 256,
    kb_dir: Annotated[
        Path | None,
        typer.Option("--eval-kb", help="knowledge base for --qrels (default .verirag-eval/NAME)"),
    ] = None,
    use: Annotated[bool, typer.Option(help="make it the knowledge base's re-ranker")] = True,
    max_queries: Annotated[
        int | None, typer.Option(min=1, help="train on a random subset of the judged queries")
    ] = None,
) -> None:
    """Fine-tune a cross-encoder (from the packaged MiniLM weights) on labelled pairs, with
    hard negatives mined by the hybrid retriever, and export it to ONNX int8."""
    from verirag.tuning.reranker import mine_groups, read_pairs, summarize

    if (qrels is None) == (pairs is None):
        raise typer.BadParameter("give exactly one of --qrels DIR or --pairs FILE")
    target = _State.kb_path
    if qrels is not None:
        data = _load_beir(qrels, split)
        target = kb_dir or Path(".verirag-eval") / data.name
        with KnowledgeBase(target) as kb, _bar() as bar:
            _ingest_corpus(kb, data, bar)
            queries = data.queries
            if max_queries is not None and max_queries < len(queries):
                ids = sorted(queries)
                random.Random(13).shuffle(ids)
                queries = {q: queries[q] for q in ids[:max_queries]}
            groups = mine_groups(kb, queries, data.qrels, negatives=negatives)
    else:
        assert pairs is not None
        groups = read_pairs(pairs)
    model_dir = out_dir or target / "rerankers" / f"minilm-l{layers}"
    model_dir.mkdir(parents=True, exist_ok=True)
    size = summarize(groups)
    err.print(
        f"training on {size['groups']} groups ({size['pairs']} pairs, {size['queries']} queries)"
    )
    _train(groups, model_dir, layers=layers, epochs=epochs, max_length=max_length)
    out.print(f"re-ranker written to {model_dir}")
    if use:
        _configure(target, "reranker", str(model_dir.resolve()))
        out.print(f"{target} now re-ranks with it (config: reranker)")


@tune_app.command("sentences")
def tune_sentences(
    qa: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help='JSONL of {"question", "answers": [...], "metadata": {...}} (metadata optional)',
        ),
    ],
    out_dir: Annotated[Path | None, typer.Option("--out", help="where the model goes")] = None,
    layers: Annotated[int, typer.Option(min=1, max=6, help="transformer layers kept")] = 3,
    epochs: Annotated[float, typer.Option(min=0.01, help="passes over the questions")] = 1.0,
    negatives: Annotated[int, typer.Option(min=1, help="wrong sentences per question")] = 7,
    k: Annotated[int, typer.Option(min=1, help="chunks retrieved per question, as ask")] = 10,
    max_length: Annotated[int, typer.Option(help="tokens per (question, sentence)")] = 128,
    use: Annotated[bool, typer.Option(help="make it the knowledge base's sentence scorer")] = True,
) -> None:
    """Fine-tune the extractive generator's sentence scorer on your questions and answers:
    each question is asked of the knowledge base as `ask` would, the retrieved sentence that
    holds a gold answer is the positive, the others the negatives."""
    from verirag.evaluation.qa import read_qa
    from verirag.tuning.reranker import summarize
    from verirag.tuning.sentences import mine_sentence_groups

    target = _State.kb_path
    try:
        pairs = read_qa(qa)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with KnowledgeBase(target) as kb, _bar() as bar:
        asked = bar.track(pairs, description="mining")
        groups = list(mine_sentence_groups(kb, asked, k=k, negatives=negatives))
    model_dir = out_dir or target / "sentence-scorers" / f"minilm-l{layers}"
    model_dir.mkdir(parents=True, exist_ok=True)
    size = summarize(groups)
    err.print(f"training on {size['groups']} groups ({len(pairs)} questions)")
    _train(groups, model_dir, layers=layers, epochs=epochs, max_length=max_length)
    out.print(f"sentence scorer written to {model_dir}")
    if use:
        _configure(target, "sentence_scorer", str(model_dir.resolve()))
        out.print(f"{target} now scores answer sentences with it (config: sentence_scorer)")


def _train(
    groups: list[Group], model_dir: Path, *, layers: int, epochs: float, max_length: int
) -> None:
    from verirag.tuning.reranker import train

    # An interrupted run (Ctrl-C, a closed laptop) picks up from here when started again.
    checkpoint = model_dir / "checkpoint.pt"
    if checkpoint.exists():
        err.print(f"resuming from {checkpoint} (delete it to start over)")
    with _bar() as bar:
        task = bar.add_task("training", total=None)
        try:
            train(
                groups,
                model_dir,
                layers=layers,
                epochs=epochs,
                max_length=max_length,
                checkpoint=checkpoint,
                on_step=lambda step, total, _loss: bar.update(task, completed=step, total=total),
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc


def _configure(target: Path, setting: str, value: str) -> None:
    """Store one query-time setting in the knowledge base's config."""
    Config.configure(target, **{setting: value})


# -- serving --------------------------------------------------------------------------

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port")] = 8000,
    max_body_mb: Annotated[int, typer.Option(min=1, help="largest request body")] = 50,
) -> None:
    """The HTTP server: REST API (/docs), web UI (/), OpenAI-compatible chat (/v1), MCP
    (/mcp/) and Prometheus metrics (/metrics). Without API keys it binds to 127.0.0.1 only."""
    import uvicorn

    from verirag.server import create_app

    kb = _open()
    if not kb.keys.active() and host not in LOOPBACK:
        err.print(
            f"[yellow]No API keys: every request would run as admin, so binding to 127.0.0.1 "
            f"instead of {host}. Create one with `verirag keys create NAME --admin`.[/yellow]"
        )
        host = "127.0.0.1"
    err.print(f"verirag serving {kb.path} on http://{host}:{port}/")
    try:
        uvicorn.run(create_app(kb, max_body_mb=max_body_mb), host=host, port=port)
    finally:
        kb.close()


@app.command()
def mcp(
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="read only documents of these access groups (repeatable)"),
    ] = None,
) -> None:
    """An MCP server on stdio with the tools search, ask, get_document, list_documents and
    document_history."""
    from verirag.access import local
    from verirag.server.mcp import build_mcp
    from verirag.server.service import Service

    who = local(group)
    with _open() as kb:
        build_mcp(Service(kb), lambda _headers: who).run("stdio")


keys_app = typer.Typer(help="API keys of the HTTP server.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="who the key is for")],
    group: Annotated[
        list[str] | None, typer.Option("--groups", "--group", help="access groups (repeatable)")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="may read everything, manage")] = False,
) -> None:
    """A new API key; it is printed once and only its hash is stored. A key reads public
    documents and those of its groups; an admin key reads all and manages documents and keys."""

    with _open() as kb:
        token = kb.keys.create(name, group or [], admin=admin)
    out.print(token)


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, name, groups, admin, created, revoked."""

    table = Table("id", "name", "groups", "admin", "created", "revoked")
    with _open() as kb:
        for k in kb.keys.all():
            table.add_row(
                k.key_id,
                k.name,
                ", ".join(k.groups),
                "yes" if k.admin else "",
                _when(k.created_at),
                _when(k.revoked_at),
            )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="key id (see keys list)")]) -> None:
    """Revoke a key: requests carrying it are refused from now on."""

    with _open() as kb:
        try:
            kb.keys.revoke(key_id)
        except KeyError as exc:
            err.print(f"[red]{exc.args[0]}[/red]")
            raise typer.Exit(1) from None
    out.print(f"revoked {key_id}")
