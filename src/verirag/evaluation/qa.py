"""Answer accuracy on your own questions: exact match, token F1 and containment, retrieval
recall of gold documents, citation precision and recall, abstention on unanswerable
questions, latency, tokens and cost.

A question file is JSONL: ``{"question", "answers": [...], "gold_docs": [...],
"unanswerable": false, "metadata": {...}}``; only the question is required (answers, for
answerable questions; metadata, the filter it is asked under)."""

from __future__ import annotations

import json
import re
import statistics
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from verirag.evaluation.metrics import percentile
from verirag.generation import Answer
from verirag.kb import KnowledgeBase
from verirag.retrieval import SearchOptions

ARTICLES = re.compile(r"\b(a|an|the)\b")
CITATION = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True, slots=True)
class QA:
    """A question, its gold answer strings, the metadata filter it is asked under, the
    documents that hold its answer, and whether the documents are silent on it."""

    question: str
    answers: tuple[str, ...]
    metadata: dict[str, Any] | None = field(default=None)
    gold_docs: tuple[str, ...] = ()
    unanswerable: bool = False


def read_qa(path: Path) -> list[QA]:
    """Questions from JSONL; a clear error names the line that is wrong."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
            answers = row.get("answers", [])
            gold = row.get("gold_docs", [])
            if not isinstance(row.get("question"), str) or not isinstance(answers, list):
                raise ValueError(f"{path}:{number}: need a question and a list of answers")
            if not isinstance(gold, list):
                raise ValueError(f"{path}:{number}: gold_docs must be a list of document ids")
            rows.append(
                QA(
                    row["question"],
                    tuple(map(str, answers)),
                    row.get("metadata"),
                    tuple(map(str, gold)),
                    bool(row.get("unanswerable", False)),
                )
            )
    return rows


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(c for c in text.lower() if c not in string.punctuation)
    return " ".join(ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    return float(any(normalize(prediction) == normalize(g) for g in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """The best SQuAD token F1 against any gold answer."""
    predicted = normalize(prediction).split()
    best = 0.0
    for gold in golds:
        wanted = normalize(gold).split()
        common = sum((Counter(predicted) & Counter(wanted)).values())
        if common:
            precision, recall = common / len(predicted), common / len(wanted)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains(prediction: str, golds: Sequence[str]) -> float:
    return float(any(normalize(g) and normalize(g) in normalize(prediction) for g in golds))


@dataclass(slots=True)
class Scored:
    """One question's outcome."""

    question: str
    answer: str
    abstained: bool
    unanswerable: bool
    exact: float | None  # None: no gold answers (an unanswerable question)
    f1: float | None
    contained: float | None
    recall: float | None  # gold documents among the retrieved sources; None: no gold docs
    cited_docs: list[str]
    citation_precision: float | None  # None: nothing cited, or no gold docs
    citation_recall: float | None
    gold_ranks: list[int | None]  # each gold document's rank among the retrieved documents
    seconds: float
    tokens_in: int
    tokens_out: int
    cost: float
    answer_id: str


def score(item: QA, answer: Answer, seconds: float) -> Scored:
    """Score one answer. Accuracy is over the cited sentences' text, citations stripped;
    an abstention answers nothing."""
    text = "" if answer.abstained else CITATION.sub("", answer.text).strip()
    gold_docs = set(item.gold_docs)
    order = list(dict.fromkeys(s.doc_id for s in answer.sources))  # sources come best first
    retrieved = set(order)
    cited = list(dict.fromkeys(s.doc_id for s in answer.cited)) if not answer.abstained else []
    has_answers = bool(item.answers) and not item.unanswerable
    return Scored(
        question=item.question,
        answer=answer.text,
        abstained=answer.abstained,
        unanswerable=item.unanswerable,
        exact=exact_match(text, item.answers) if has_answers else None,
        f1=token_f1(text, item.answers) if has_answers else None,
        contained=contains(text, item.answers) if has_answers else None,
        recall=len(gold_docs & retrieved) / len(gold_docs) if gold_docs else None,
        cited_docs=cited,
        citation_precision=(
            sum(d in gold_docs for d in cited) / len(cited) if gold_docs and cited else None
        ),
        citation_recall=len(gold_docs & set(cited)) / len(gold_docs) if gold_docs else None,
        gold_ranks=[order.index(d) + 1 if d in retrieved else None for d in item.gold_docs],
        seconds=seconds,
        tokens_in=answer.tokens_in,
        tokens_out=answer.tokens_out,
        cost=answer.cost,
        answer_id=answer.answer_id,
    )


def recall_curve(scored: Sequence[Scored], depth: int) -> list[float]:
    """Mean recall of gold documents within the top 1..``depth`` retrieved documents, over
    the questions that name gold documents."""
    judged = [s.gold_ranks for s in scored if s.gold_ranks]
    if not judged:
        return []
    return [
        sum(sum(r is not None and r <= k for r in ranks) / len(ranks) for ranks in judged)
        / len(judged)
        for k in range(1, depth + 1)
    ]


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def summarize(scored: Sequence[Scored]) -> dict[str, Any]:
    """Means over the questions each metric applies to (``None`` where none does)."""
    abstained = [s for s in scored if s.abstained]
    unanswerable = [s for s in scored if s.unanswerable]
    hits = sum(s.abstained and s.unanswerable for s in scored)
    n = len(scored)
    return {
        "questions": n,
        "exact_match": _mean(s.exact for s in scored),
        "f1": _mean(s.f1 for s in scored),
        "containment": _mean(s.contained for s in scored),
        "retrieval_recall": _mean(s.recall for s in scored),
        "citation_precision": _mean(s.citation_precision for s in scored),
        "citation_recall": _mean(s.citation_recall for s in scored),
        "abstention_rate": len(abstained) / n if n else None,
        "abstention_precision": hits / len(abstained) if abstained else None,
        "abstention_recall": hits / len(unanswerable) if unanswerable else None,
        "latency_p50_ms": 1000 * statistics.median([s.seconds for s in scored]) if n else None,
        "latency_p95_ms": 1000 * percentile([s.seconds for s in scored], 0.95) if n else None,
        "tokens_per_question": sum(s.tokens_in + s.tokens_out for s in scored) / n if n else None,
        "cost_per_question": sum(s.cost for s in scored) / n if n else None,
    }


@dataclass(slots=True)
class QARun:
    """A finished evaluation: the summary, and every question's outcome."""

    summary: dict[str, Any]
    questions: list[Scored]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "summary": self.summary,
            "questions": [asdict(s) for s in self.questions],
        }


Ask = Callable[[QA], Answer]


def evaluate_qa(
    items: Sequence[QA],
    ask: Ask,
    *,
    settings: dict[str, Any] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> QARun:
    """Ask every question through ``ask`` (a pipeline: ``KnowledgeBase.ask`` with its
    options) and score the answers."""
    scored = []
    for done, item in enumerate(items, start=1):
        started = time.perf_counter()
        answer = ask(item)
        scored.append(score(item, answer, time.perf_counter() - started))
        if on_progress:
            on_progress(done, len(items))
    return QARun(summarize(scored), scored, dict(settings or {}))


def evaluate(
    kb: KnowledgeBase,
    items: Sequence[QA],
    *,
    k: int = 8,
    llm: str | None = None,
    groups: Sequence[str] | None = None,
    principal: str | None = None,
    options: SearchOptions | None = None,
    verify: bool = True,
    pipeline: str = "full",
    on_progress: Callable[[int, int], None] | None = None,
) -> QARun:
    """Ask every question of ``kb`` (each under its own metadata filter) as ``ask`` would and
    score the answers; ``kb.eval_runs.add`` keeps a run."""
    options = options or SearchOptions()
    settings = {
        "pipeline": pipeline,
        "k": k,
        "generator": llm or kb.config.generator,
        "chunking": f"{kb.config.chunking} {kb.config.chunk_tokens} tokens",
        "search": options.mode.value,
        "reranker": kb.config.reranker if options.rerank else None,
        "citation_check": verify,
    }

    def ask(item: QA) -> Answer:
        return kb.ask(
            item.question,
            k=k,
            groups=groups,
            principal=principal,
            metadata=item.metadata,
            llm=llm,
            options=options,
            verify=verify,
        )

    return evaluate_qa(items, ask, settings=settings, on_progress=on_progress)
