"""Ingest benchmark on BEIR SciFact: parse+chunk throughput, full ingest, no-op re-ingest.

    .venv/bin/python benchmarks/ingest.py [--runs 3] [--corpus PATH]

Each abstract (title + text) is one document; the catalog path only (``index=False``):
embedding, which dominates a full ingest, is measured by embed_throughput.py. Figures are
medians over ``--runs``; the no-op
re-ingest is reported as a ratio to the first ingest measured in the same run (target < 5%).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from verirag import KnowledgeBase, Status, TextRecord
from verirag.documents import parse

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "beir_scifact" / "corpus.jsonl"


def load(corpus: Path, limit: int | None) -> list[TextRecord]:
    records = []
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            text = f"{row['title']}\n\n{row['text']}" if row.get("title") else row["text"]
            records.append(TextRecord(str(row["_id"]), text, title=row.get("title") or None))
            if limit and len(records) >= limit:
                break
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="first N documents only")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "ingest.json"
    )
    args = parser.parse_args()
    if not args.corpus.is_file():
        raise SystemExit(f"{args.corpus} not found: the shared data sets live in ../shared/data")

    records = load(args.corpus, args.limit)
    megabytes = sum(len(r.text.encode()) for r in records) / 1e6
    print(f"{len(records)} documents, {megabytes:.1f} MB from {args.corpus}")

    parse_chunk, first, noop, chunks = [], [], [], 0
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp, KnowledgeBase(Path(tmp) / "kb") as kb:
            chunker = kb.chunker  # tokenizer loaded outside the timings
            start = time.perf_counter()
            chunks = 0
            for r in records:
                chunks += len(chunker.chunk(r.doc_id, parse(r.text.encode(), r.doc_id + ".txt")))
            parse_chunk.append(time.perf_counter() - start)

            start = time.perf_counter()
            report = kb.ingest_texts(records, index=False)
            first.append(time.perf_counter() - start)
            assert report.counts()[Status.NEW] == len(records), report.counts()

            start = time.perf_counter()
            again = kb.ingest_texts(records, index=False)
            noop.append(time.perf_counter() - start)
            assert again.counts()[Status.UNCHANGED] == len(records), again.counts()
            print(
                f"run {run + 1}: parse+chunk {parse_chunk[-1]:.2f}s, ingest {first[-1]:.2f}s, "
                f"no-op {noop[-1]:.3f}s"
            )

    pc, ing, nop = (statistics.median(x) for x in (parse_chunk, first, noop))
    ratios = [n / f for n, f in zip(noop, first, strict=True)]
    results = {
        "documents": len(records),
        "megabytes": round(megabytes, 2),
        "chunks": chunks,
        "runs": args.runs,
        "parse_chunk_docs_per_s": round(len(records) / pc, 1),
        "parse_chunk_mb_per_s": round(megabytes / pc, 2),
        "ingest_seconds": round(ing, 2),
        "ingest_docs_per_s": round(len(records) / ing, 1),
        "noop_seconds": round(nop, 3),
        "noop_ratio_median": round(statistics.median(ratios), 4),
    }
    print()
    print(
        f"{'parse + chunk':24} {results['parse_chunk_docs_per_s']:>9} docs/s "
        f"{results['parse_chunk_mb_per_s']:>6} MB/s"
    )
    print(f"{'ingest (catalog commit)':24} {results['ingest_docs_per_s']:>9} docs/s {ing:>6.2f} s")
    print(
        f"{'no-op re-ingest':24} {nop:>9.3f} s   = {results['noop_ratio_median']:.1%} of the "
        f"first ingest (target < 5%)"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
