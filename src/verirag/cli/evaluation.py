"""Evaluation: retrieval on BEIR-format data, answers on your own questions, generated
questions, drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from verirag.cli.app import (
    GroupOption,
    LlmOption,
    app,
    err,
    ingest_corpus,
    load_beir_or_exit,
    open_kb,
    open_local,
    out,
    progress_bar,
)
from verirag.client import Remote
from verirag.config import Config
from verirag.kb import KnowledgeBase
from verirag.owner import Busy

if TYPE_CHECKING:
    from verirag.evaluation.qa import QA, QARun
    from verirag.store import StoredRun

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

    data = load_beir_or_exit(folder, split)
    target = kb_dir or Path(".verirag-eval") / data.name
    config = None
    if reranker:
        stored = Config.load(target)
        config = (stored or Config()).model_copy(update={"reranker": reranker})
    with KnowledgeBase(target, config=config) as kb, progress_bar() as bar:
        ingest_corpus(kb, data, bar)
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
    from verirag.evaluation.qa import QARun, read_qa

    try:
        items = read_qa(questions)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="QUESTIONS") from None
    if not items:
        raise typer.BadParameter("no questions in the file", param_hint="QUESTIONS")
    runs: dict[str, QARun | StoredRun]
    with open_kb() as kb:
        if isinstance(kb, Remote):
            if ablation or llm or html_path:
                raise Busy(
                    f"{kb.path} is served: eval qa --ablation, --llm and --html need its files "
                    "(stop the server); without them the server runs the questions"
                )
            out.print(f"[dim]asking {len(items)} questions through {kb.info.url} ...[/dim]")
            stored = kb.evaluate_qa(items, k=k, groups=group)
            runs, ids = {"full": stored}, {"full": stored.run_id}
        else:
            here = _evaluate_here(kb, items, k=k, llm=llm, groups=group, ablation=ablation)
            runs = {**here}
            ids = {name: kb.eval_runs.add(run) for name, run in here.items()}
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

        local = {name: run for name, run in runs.items() if isinstance(run, QARun)}
        html_path.write_text(html_report(questions.name, local), encoding="utf-8")
        out.print(f"wrote {html_path}")


def _evaluate_here(
    kb: KnowledgeBase,
    items: list[QA],
    *,
    k: int,
    llm: str | None,
    groups: list[str] | None,
    ablation: bool,
) -> dict[str, QARun]:
    from verirag.evaluation.ablation import ablation as run_ablation
    from verirag.evaluation.qa import evaluate

    with progress_bar() as bar:
        tasks: dict[str, Any] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"asking ({name})", total=total)
            bar.update(tasks[name], completed=done)

        if ablation:
            return run_ablation(kb, items, k=k, llm=llm, groups=groups, on_progress=progress)
        full = evaluate(
            kb,
            items,
            k=k,
            llm=llm,
            groups=groups,
            on_progress=lambda done, total: progress("full", done, total),
        )
        return {"full": full}


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

    with open_local() as kb:
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
        with KnowledgeBase(target) as kb, progress_bar() as bar:
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
