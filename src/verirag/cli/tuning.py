"""Behaviour, never facts: the advisor, and fine-tuning the re-ranker and sentence scorer."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from verirag.config import Config
from verirag.kb import KnowledgeBase

if TYPE_CHECKING:
    from verirag.evaluation.cost import Inputs
    from verirag.tuning.reranker import Group

from verirag.cli.app import (
    app,
    err,
    ingest_corpus,
    kb_path,
    load_beir_or_exit,
    open_local,
    out,
    progress_bar,
)


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
    from verirag.evaluation.cost import Inputs, audited_tokens

    measured = ""
    if tokens_in is None or tokens_out is None:
        with open_local() as kb:
            audited = audited_tokens(kb.audit.records())
        if audited is not None:
            mean_in, mean_out, n = audited
            measured = f" (mean of {n} audited LLM answers)"
        else:
            mean_in, mean_out = 2500, 150
            measured = " (assumed: no LLM answer in the audit trail yet)"
        tokens_in, tokens_out = tokens_in or mean_in, tokens_out or mean_out
    inputs = Inputs(
        queries_per_day=queries_per_day,
        changes_per_month=changes_per_month,
        tokens_in_per_query=tokens_in,
        tokens_out_per_query=tokens_out,
        price_in=price_in,
        price_out=price_out,
        ft_tokens_in_per_query=ft_tokens_in,
        ft_price_in=ft_price_in,
        ft_price_out=ft_price_out,
        retrain_cost=retrain_cost,
        max_stale_days=max_stale_days,
        ingest_cost_per_change=ingest_cost,
        months=months,
    )
    _print_advice(inputs, measured)


def _print_advice(inputs: Inputs, measured: str) -> None:
    """The assumptions, then retrieval against fine-tuning, then which costs less."""
    from verirag.evaluation.cost import compare

    i, months = inputs, inputs.months
    result = compare(inputs)
    assumptions = Table("assumption", "value", title="Assumptions")
    tokens = f"{i.tokens_in_per_query:,.0f} in, {i.tokens_out_per_query:,.0f} out"
    for label, value in (
        ("questions per day", f"{i.queries_per_day:,.0f}"),
        ("documents changed per month", f"{i.changes_per_month:,.0f}"),
        ("tokens per answer, retrieval", tokens + measured),
        ("price, retrieval model", f"${i.price_in}/M in, ${i.price_out}/M out"),
        (
            "tokens per answer, fine-tuned",
            f"{i.ft_tokens_in_per_query:,.0f} in, {i.tokens_out_per_query:,.0f} out",
        ),
        ("price, fine-tuned model", f"${i.ft_price_in}/M in, ${i.ft_price_out}/M out"),
        ("cost per fine-tuning run", f"${i.retrain_cost:,.2f}"),
        ("longest a changed fact may stay wrong", f"{i.max_stale_days:g} days"),
        ("cost to re-ingest a changed document", f"${i.ingest_cost_per_change:,.4f}"),
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
    target = kb_path()
    if qrels is not None:
        data = load_beir_or_exit(qrels, split)
        target = kb_dir or Path(".verirag-eval") / data.name
        with KnowledgeBase(target) as kb, progress_bar() as bar:
            ingest_corpus(kb, data, bar)
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

    target = kb_path()
    try:
        pairs = read_qa(qa)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with KnowledgeBase(target) as kb, progress_bar() as bar:
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
    with progress_bar() as bar:
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
