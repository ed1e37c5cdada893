"""Retrieval quality and latency on BEIR test splits, with the re-ranking trade-off table.

    .venv/bin/python benchmarks/retrieval.py [--datasets beir_scifact,beir_nfcorpus]
                                             [--reranker DIR] [--kb-root DIR]

Rows: BM25, dense, hybrid (RRF), hybrid (convex), and with --reranker, hybrid + re-rank for
several candidate counts and blend weights. nDCG@10 / Recall@100 / MRR@10 as BEIR computes
them; latency is one k=10 query at the row's settings on this machine (p50/p95 over the
queries, each query timed after its metric run).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import RESULTS, beir_kb

from verirag.evaluation import Variant, evaluate_retrieval, standard_variants
from verirag.retrieval import SearchOptions, load_reranker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="beir_scifact,beir_nfcorpus")
    parser.add_argument(
        "--reranker", default=None, help="directory made by `verirag tune reranker`"
    )
    parser.add_argument("--candidates", default="10,20,30", help="re-rank candidate counts")
    parser.add_argument("--weights", default="1.0,0.5", help="re-ranker weight in the blend")
    parser.add_argument("--kb-root", type=Path, default=None)
    args = parser.parse_args()
    report = {}
    for name in args.datasets.split(","):
        reranker = load_reranker(args.reranker) if args.reranker else None
        kb, data = beir_kb(name, kb_root=args.kb_root, reranker=reranker)
        variants = standard_variants(with_reranker=False)
        if args.reranker:
            for n in (int(x) for x in args.candidates.split(",")):
                for w in (float(x) for x in args.weights.split(",")):
                    options = SearchOptions(rerank=True, rerank_candidates=n, rerank_weight=w)
                    variants.append(Variant(f"hybrid + rerank top-{n} w={w}", options))
        rows = [r.row() for r in evaluate_retrieval(kb, data, variants)]
        kb.close()
        print(f"\n{name} ({len(data.queries)} test queries, {len(data.corpus)} documents)")
        print(
            f"{'variant':34} {'nDCG@10':>8} {'R@100':>7} {'MRR@10':>7} {'p50 ms':>8} {'p95 ms':>8}"
        )
        for row in rows:
            print(
                f"{row['variant']:34} {row['ndcg@10']:>8.4f} {row['recall@100']:>7.4f} "
                f"{row['mrr@10']:>7.4f} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}"
            )
        report[name] = rows
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'retrieval.json'}")


if __name__ == "__main__":
    main()
