"""Ingest rate with parsing in worker processes against a baseline build of verirag (e.g.
the commit before they came), measured in the same run, alternating, median of ``--runs``.

    git worktree add /tmp/verirag-before c7889db
    .venv/bin/python benchmarks/ingest_workers.py --baseline /tmp/verirag-before/src

The workload: SciFact abstracts written as Markdown files (``--limit`` of them) plus the
sample corpus (PDF, DOCX, HTML, CSV), ingested from a folder into a fresh knowledge base with
``index=False``: reading, hashing, parsing, chunking and catalog commits; embedding, which
the workers do not touch, is left out (embed_throughput.py measures it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "beir_scifact" / "corpus.jsonl"

RUN = """
import sys, time
from pathlib import Path
from verirag import KnowledgeBase
folder, kb_path = Path(sys.argv[1]), Path(sys.argv[2])
with KnowledgeBase(kb_path) as kb:
    kb.chunker  # the tokenizer, loaded outside the timing in both builds
    start = time.perf_counter()
    report = kb.ingest(folder, index=False)
    elapsed = time.perf_counter() - start
assert not report.failed, report.failed
print(len(report.outcomes) / elapsed)
"""


def make_corpus(folder: Path, limit: int) -> int:
    with CORPUS.open(encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            if i >= limit:
                break
            row = json.loads(line)
            text = f"# {row['title']}\n\n{row['text']}\n"
            (folder / f"{row['_id']}.md").write_text(text, encoding="utf-8")
    for file in (ROOT / "sample" / "v1").rglob("*"):
        if file.is_file():
            shutil.copy(file, folder / file.name)
    return sum(1 for _ in folder.iterdir())


def rate(src: Path, folder: Path) -> float:
    with tempfile.TemporaryDirectory() as kb_dir:
        env = {**os.environ, "PYTHONPATH": str(src)}
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(folder), str(Path(kb_dir) / "kb")],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="src/ of the baseline")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_corpus(folder, args.limit)
        print(f"{files} files, {os.cpu_count()} cores")
        before, after = [], []
        for run in range(args.runs):
            before.append(rate(args.baseline, folder))
            after.append(rate(ROOT / "src", folder))
            print(f"run {run + 1}: baseline {before[-1]:.1f} files/s, workers {after[-1]:.1f}")
    b, a = statistics.median(before), statistics.median(after)
    print(f"median: baseline {b:.1f} files/s, workers {a:.1f} files/s, ratio {a / b:.2f}")


if __name__ == "__main__":
    main()
