"""The embedded and the cluster profile on the same documents and vectors: SciFact test
nDCG@10 / Recall@100 / MRR@10 for each retrieval variant on both, and their differences.

    .venv/bin/python benchmarks/profiles.py [--catalog postgresql://...] [--index qdrant://...]

The embedded knowledge base (SQLite + Qdrant Edge) is the evaluation one (built once); the
cluster one is made from it by ``migrate`` (the catalog copied to PostgreSQL, the index built
in a Qdrant collection from the copied vectors). Without ``--catalog`` a throwaway PostgreSQL
server is started on 127.0.0.1 (Debian's binaries, as the tests do); without ``--index`` the
collection is qdrant-client's local mode (the Qdrant server cannot be installed here).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from _common import RESULTS, ROOT, beir_kb

from verirag import KnowledgeBase
from verirag.evaluation import evaluate_retrieval, standard_variants

sys.path.insert(0, str(ROOT))
from tests import postgres  # the tests' throwaway server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="beir_scifact")
    parser.add_argument("--catalog", default=None, help="an empty PostgreSQL database")
    parser.add_argument("--index", default=None, help="a Qdrant collection URL")
    parser.add_argument("--kb-root", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="verirag-profiles-"))
    with contextlib.ExitStack() as stack:
        catalog = args.catalog
        if catalog is None:
            catalog = postgres.new_database(stack.enter_context(postgres.server()))
        index = args.index or f"qdrant+local:{work / 'qdrant'}"
        kb, data = beir_kb(args.dataset, kb_root=args.kb_root)
        variants = standard_variants(with_reranker=False)
        embedded = [r.row() for r in evaluate_retrieval(kb, data, variants)]
        kb.migrate(work / "cluster", catalog=catalog, index=index)
        kb.close()
        with KnowledgeBase(work / "cluster") as cluster:
            clustered = [r.row() for r in evaluate_retrieval(cluster, data, variants)]
    shutil.rmtree(work, ignore_errors=True)
    print(f"\n{args.dataset} test ({len(data.queries)} queries): embedded | cluster | difference")
    rows = []
    for a, b in zip(embedded, clustered, strict=True):
        row = {"variant": a["variant"]}
        for metric in ("ndcg@10", "recall@100", "mrr@10"):
            row[metric] = {"embedded": a[metric], "cluster": b[metric]}
        rows.append(row)
        n = row["ndcg@10"]
        print(
            f"{a['variant']:24} nDCG@10 {n['embedded']:.4f} | {n['cluster']:.4f} | "
            f"{n['cluster'] - n['embedded']:+.4f}   R@100 {a['recall@100']:.4f} | "
            f"{b['recall@100']:.4f}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profiles.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
