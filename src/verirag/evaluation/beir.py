"""Retrieval evaluation on any BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv."""

from __future__ import annotations

import csv
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verirag.evaluation.metrics import evaluate, percentile
from verirag.ingest import TextRecord
from verirag.retrieval import Fusion, Mode, SearchOptions, aggregate

if TYPE_CHECKING:  # the facade uses evaluation too
    from verirag.kb import KnowledgeBase


@dataclass(frozen=True, slots=True)
class BeirData:
    name: str
    corpus: list[TextRecord]
    queries: dict[str, str]  # judged queries of the split only
    qrels: dict[str, dict[str, int]]


def load_beir(folder: str | Path, split: str = "test") -> BeirData:
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for required in (folder / "corpus.jsonl", folder / "queries.jsonl", qrels_path):
        if not required.is_file():
            raise FileNotFoundError(
                f"{required} is missing: not a BEIR folder (or no {split!r} split)"
            )
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(str(row["query-id"]), {})[str(row["corpus-id"])] = int(row["score"])
    queries: dict[str, str] = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries[str(row["_id"])] = row["text"]
    corpus: list[TextRecord] = []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            # The title is the document's title, so it heads every chunk (as its breadcrumb)
            # rather than only the first one.
            title = (row.get("title") or "").strip()
            corpus.append(TextRecord(str(row["_id"]), row["text"], title=title or None))
    return BeirData(folder.name, corpus, queries, qrels)


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    options: SearchOptions


def standard_variants(with_reranker: bool) -> list[Variant]:
    variants = [
        Variant("bm25", SearchOptions(mode=Mode.BM25, rerank=False)),
        Variant("dense", SearchOptions(mode=Mode.DENSE, rerank=False)),
        Variant("hybrid rrf", SearchOptions(fusion=Fusion.RRF, rerank=False)),
        Variant("hybrid convex", SearchOptions(fusion=Fusion.CONVEX, rerank=False)),
    ]
    if with_reranker:
        variants.append(
            Variant("hybrid + rerank", SearchOptions(fusion=Fusion.CONVEX, rerank=True))
        )
    return variants


@dataclass(slots=True)
class VariantResult:
    name: str
    metrics: dict[str, float]
    latency_ms: list[float] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        latencies = self.latency_ms
        p95 = percentile(latencies, 0.95)
        return {
            "variant": self.name,
            **{name: round(value, 4) for name, value in self.metrics.items()},
            "p50_ms": round(statistics.median(latencies), 2) if latencies else 0.0,
            "p95_ms": round(p95, 2),
        }


def run_variant(
    kb: KnowledgeBase,
    data: BeirData,
    variant: Variant,
    *,
    depth: int = 100,
    candidates: int = 300,
    how: str = "max",
    on_query: Callable[[], None] | None = None,
) -> VariantResult:
    """Retrieve ``depth`` documents per query (chunk hits aggregated by ``how``) for the
    metrics, and time a production-shaped query (k=10, the variant's own candidate count)."""
    scope = kb.scope()
    deep = replace(variant.options, candidates=candidates)
    run: dict[str, dict[str, float]] = {}
    latencies: list[float] = []
    for query_id, query in data.queries.items():
        chunks = kb.retrieve(query, k=0, scope=scope, options=deep)
        run[query_id] = dict(aggregate(chunks, how)[:depth])
        start = time.perf_counter()
        kb.retrieve(query, k=10, scope=scope, options=variant.options)
        latencies.append((time.perf_counter() - start) * 1000)
        if on_query is not None:
            on_query()
    return VariantResult(variant.name, evaluate(run, data.qrels), latencies)


def evaluate_retrieval(
    kb: KnowledgeBase,
    data: BeirData,
    variants: Sequence[Variant],
    *,
    depth: int = 100,
    candidates: int = 300,
    how: str = "max",
    on_query: Callable[[], None] | None = None,
) -> list[VariantResult]:
    return [
        run_variant(kb, data, v, depth=depth, candidates=candidates, how=how, on_query=on_query)
        for v in variants
    ]
