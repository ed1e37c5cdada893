"""Whole paragraphs as queries: every verirag retriever against the same models used plainly on
whole documents (issue 20, item 6).

    .venv/bin/python benchmarks/paragraphs.py [--dataset beir_nfcorpus] [--split train|dev|test]
                                              [--queries N] [--kb-root DIR]

The task (built from the shared BEIR data, as ArguAna is: a document's text finds its related
documents): each query is the whole text (title and abstract, ~230 words) of the first
relevant document of a judged query with at least two; its gold documents are that query's
other relevant documents (the query document itself is ignored, as BEIR ignores a hit whose
id is the query's). ``--queries N`` spreads N over the split.

Baselines on whole documents, title + text: bm25s (Lucene BM25, k1=1.5, b=0.75, English
stop words and Snowball stemmer, its defaults), the same MiniLM embedder (truncating at 256
tokens, as verirag's) by exact cosine, and their fusion by RRF (k=60) and by a convex blend
of min-max-normalised scores (0.5). verirag rows: bm25, dense, hybrid RRF, hybrid convex,
over its chunks, documents scored by their best chunk. nDCG@10 / Recall@100 as BEIR computes
them. Needs ``pip install bm25s`` (not a dependency of verirag).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, RESULTS, beir_kb

from verirag.embedding import load_embedder
from verirag.evaluation import BeirData, evaluate_retrieval, load_beir, standard_variants
from verirag.evaluation.metrics import evaluate

DEPTH = 100


def paragraph_queries(data: BeirData, limit: int | None) -> BeirData:
    """Queries made of whole relevant documents, gold: the other relevant documents."""
    texts = {r.doc_id: f"{r.title}\n{r.text}" if r.title else r.text for r in data.corpus}
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for query_id in sorted(data.qrels):
        relevant = sorted(d for d, grade in data.qrels[query_id].items() if grade > 0)
        if len(relevant) < 2 or relevant[0] not in texts or relevant[0] in queries:
            continue
        queries[relevant[0]] = texts[relevant[0]]
        qrels[relevant[0]] = {d: data.qrels[query_id][d] for d in relevant[1:]}
    ids = sorted(queries)
    if limit and limit < len(ids):
        ids = [ids[round(i * (len(ids) - 1) / (limit - 1))] for i in range(limit)]
    return BeirData(data.name, data.corpus, {q: queries[q] for q in ids}, qrels)


def _top(scores: np.ndarray, ids: list[str], query_id: str) -> dict[str, float]:
    order = np.argsort(-scores)[: DEPTH + 1]
    return {ids[i]: float(scores[i]) for i in order if ids[i] != query_id}


def baselines(data: BeirData) -> list[dict[str, Any]]:
    import bm25s
    import Stemmer

    ids = [r.doc_id for r in data.corpus]
    texts = [f"{r.title}\n{r.text}" if r.title else r.text for r in data.corpus]
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False))
    embedder = load_embedder("minilm")
    doc_vectors = embedder.embed(texts)
    lexical: dict[str, dict[str, float]] = {}
    dense: dict[str, dict[str, float]] = {}
    for query_id, query in data.queries.items():
        (words,) = bm25s.tokenize(
            [query], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )
        lexical[query_id] = _top(retriever.get_scores(words), ids, query_id)
        dense[query_id] = _top(doc_vectors @ embedder.embed([query])[0], ids, query_id)
    rows = [
        {"variant": "plain bm25s", **evaluate(lexical, data.qrels)},
        {"variant": "plain dense", **evaluate(dense, data.qrels)},
        {"variant": "plain rrf", **evaluate(_rrf(lexical, dense), data.qrels)},
        {"variant": "plain convex", **evaluate(_convex(lexical, dense), data.qrels)},
    ]
    return rows


def _rrf(*runs: dict[str, dict[str, float]], k: int = 60) -> dict[str, dict[str, float]]:
    fused: dict[str, dict[str, float]] = {}
    for query_id in runs[0]:
        scores: dict[str, float] = {}
        for run in runs:
            ranked = sorted(run[query_id].items(), key=lambda item: -item[1])
            for rank, (doc_id, _) in enumerate(ranked, start=1):
                scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
        fused[query_id] = scores
    return fused


def _convex(*runs: dict[str, dict[str, float]], weight: float = 0.5) -> dict[str, dict[str, float]]:
    fused: dict[str, dict[str, float]] = {}
    for query_id in runs[0]:
        scores: dict[str, float] = {}
        for run, w in zip(runs, (weight, 1 - weight), strict=True):
            values = run[query_id]
            low, high = min(values.values()), max(values.values())
            for doc_id, value in values.items():
                scaled = (value - low) / (high - low) if high > low else 0.0
                scores[doc_id] = scores.get(doc_id, 0.0) + w * scaled
        fused[query_id] = scores
    return fused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="beir_nfcorpus")
    parser.add_argument("--split", default="train", help="train chooses settings; test reports")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--kb-root", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--plain-from", type=Path, default=None, help="the plain rows of an earlier run's --out"
    )
    args = parser.parse_args()
    data = paragraph_queries(load_beir(DATA / args.dataset, args.split), args.queries)
    print(f"{args.dataset} {args.split}: {len(data.queries)} paragraph queries", flush=True)
    if args.plain_from:
        rows = [
            r for r in json.loads(args.plain_from.read_text()) if r["variant"].startswith("plain")
        ]
    else:
        rows = baselines(data)
    for row in rows:
        print(json.dumps({k: row[k] for k in ("variant", "ndcg@10", "recall@100")}), flush=True)
    kb, _ = beir_kb(args.dataset, args.split, kb_root=args.kb_root)
    with kb:
        for result in evaluate_retrieval(kb, data, standard_variants(False), depth=DEPTH):
            row = result.row()
            rows.append(row)
            print(json.dumps({k: row[k] for k in ("variant", "ndcg@10", "recall@100")}), flush=True)
    out = args.out or RESULTS / f"paragraphs-{args.dataset}-{args.split}.json"
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
