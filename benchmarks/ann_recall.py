"""ANN recall@10 of the HNSW index against exact search, per hnsw_ef, on real embeddings.

    .venv/bin/python benchmarks/ann_recall.py [--dataset beir_scifact] [--kb-root DIR]

Queries are the data set's test queries; both searches run with the same live-version filter.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import RESULTS, beir_kb, median

from verirag.index.qdrant_edge import EdgeIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="beir_scifact")
    parser.add_argument("--kb-root", type=Path, default=None)
    parser.add_argument("--efs", default="16,32,64,128,256")
    args = parser.parse_args()
    kb, data = beir_kb(args.dataset, kb_root=args.kb_root)
    index = kb.index
    assert isinstance(index, EdgeIndex)
    index.optimize()
    scope = kb.scope()
    vectors = kb.embedder.embed(list(data.queries.values()))
    exact = [[h.chunk_id for h in index.dense(v, 10, scope, exact=True)] for v in vectors]
    rows = []
    print(f"{args.dataset}: {index.count(scope)} chunks, {len(vectors)} queries")
    print(f"{'hnsw_ef':>8} {'recall@10':>10} {'p50 ms':>8}")
    for ef in (int(x) for x in args.efs.split(",")):
        index.hnsw_ef = ef
        hits, times = 0, []
        for vector, truth in zip(vectors, exact, strict=True):
            start = time.perf_counter()
            found = index.dense(vector, 10, scope)
            times.append((time.perf_counter() - start) * 1000)
            hits += len({h.chunk_id for h in found} & set(truth))
        recall = hits / (10 * len(vectors))
        rows.append(
            {"hnsw_ef": ef, "recall@10": round(recall, 4), "p50_ms": round(median(times), 3)}
        )
        print(f"{ef:>8} {recall:>10.4f} {median(times):>8.3f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ann_recall_{args.dataset}.json").write_text(json.dumps(rows, indent=2) + "\n")
    kb.close()


if __name__ == "__main__":
    main()
