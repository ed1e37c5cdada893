"""Ranking metrics computed exactly as BEIR reports them (pytrec_eval / trec_eval conventions).

- A run is sorted by score, descending; ties are broken by document id, descending (trec_eval).
- nDCG@k uses linear gains (the graded relevance itself) and a log2(rank + 1) discount; the
  ideal ranking is the judged relevant documents sorted by relevance.
- Recall@k and MRR@k count a document as relevant when its relevance is at least 1.
- A retrieved document whose id equals the query id is dropped (BEIR's default).
- Scores are averaged over the judged queries that have a run (BEIR averages what
  pytrec_eval returns, and pytrec_eval skips queries absent from the run).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

Run = Mapping[str, Mapping[str, float]]  # query id -> document id -> score
Qrels = Mapping[str, Mapping[str, int]]  # query id -> document id -> relevance


def ranked(scores: Mapping[str, float], query_id: str | None = None) -> list[str]:
    docs = [d for d in scores if d != query_id]
    # trec_eval order: score descending, then document id descending.
    docs.sort(key=lambda d: d, reverse=True)
    docs.sort(key=lambda d: scores[d], reverse=True)
    return docs


def ndcg_at(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted((r for r in judged.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    relevant = {d for d, r in judged.items() if r >= 1}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at(ranking: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    for i, d in enumerate(ranking[:k]):
        if judged.get(d, 0) >= 1:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(run: Run, qrels: Qrels, *, ignore_identical_ids: bool = True) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 over the judged queries present in ``run``."""
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    queries = [q for q in qrels if run.get(q)]
    for query_id in queries:
        ranking = ranked(run[query_id], query_id if ignore_identical_ids else None)
        judged = qrels[query_id]
        totals["ndcg@10"] += ndcg_at(ranking, judged, 10)
        totals["recall@100"] += recall_at(ranking, judged, 100)
        totals["mrr@10"] += mrr_at(ranking, judged, 10)
    n = len(queries)
    return {name: value / n if n else 0.0 for name, value in totals.items()}


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest rank of the sorted values; 0 for none. Every
    p95 verirag reports (evaluations, benchmarks) is this one."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0
