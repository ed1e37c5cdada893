"""Ingesting a real folder: wall time, files skipped, and the share of the wall time the
embedder is busy, pipelined (embedding while the workers parse: the default) against parsing
everything first and embedding after (how ingest ran before issue 19), in one run.

    .venv/bin/python benchmarks/ingest_folder.py [FOLDER] [--runs 3]

FOLDER defaults to this repository's checkout: a developer's folder with docs, sources, a
``.git`` and a ``.venv`` (skipped by default: pass ``--include-all`` to see what that costs).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from _common import RESULTS, ROOT, median

from verirag import KnowledgeBase
from verirag.embedding import Embedder, Vectors, load_embedder
from verirag.ingest import Status


class Timed:
    """An embedder that counts the seconds spent inside it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.busy = 0.0
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            with self._lock:
                self.busy += time.perf_counter() - started


def once(
    folder: Path, embedder: Embedder, *, pipelined: bool, include_all: bool
) -> dict[str, float]:
    timed = Timed(embedder)
    with (
        tempfile.TemporaryDirectory() as tmp,
        KnowledgeBase(Path(tmp) / "kb", embedder=timed) as kb,
    ):
        started = time.perf_counter()
        if pipelined:
            report = kb.ingest(folder, include_all=include_all)
        else:  # parse and commit everything, then embed it all
            report = kb.ingest(folder, include_all=include_all, index=False)
            kb.sync_index()
        wall = time.perf_counter() - started
        counts = report.counts()
        chunks = sum(o.n_chunks for o in report.outcomes)
    return {
        "wall_s": wall,
        "embedder_busy": timed.busy / wall,
        "files": counts[Status.NEW],
        "skipped": counts[Status.SKIPPED],
        "failed": counts[Status.FAILED],
        "chunks": chunks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--include-all", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "ingest_folder.json")
    args = parser.parse_args()
    embedder = load_embedder("minilm")
    embedder.embed(["warm"])
    rows: dict[str, list[dict[str, float]]] = {"pipelined": [], "parse_then_embed": []}
    for run in range(args.runs):
        for name in rows:  # both in each run, alternating, on the same machine state
            row = once(
                args.folder, embedder, pipelined=name == "pipelined", include_all=args.include_all
            )
            rows[name].append(row)
            print(f"run {run} {name}: {json.dumps({k: round(v, 3) for k, v in row.items()})}")
    summary = {
        name: {key: median([r[key] for r in found]) for key in found[0]}
        for name, found in rows.items()
    }
    summary["speedup"] = {
        "wall": summary["parse_then_embed"]["wall_s"] / summary["pipelined"]["wall_s"]
    }
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"folder": str(args.folder), "runs": args.runs, "summary": summary, "rows": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
