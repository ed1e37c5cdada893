"""Hostile files at the sizes the security review used: how long each takes to be refused
and how much memory its parse reaches, under the default caps (60 s, 1024 MB).

    .venv/bin/python benchmarks/hostile.py

Per kind, a fresh process runs exactly what a parse worker runs (``parse_and_chunk`` under
the memory cap, tokenizer threads off) and reports wall time and peak RSS (the whole process:
interpreter, parsers and tokenizer are about 165 MB of it); then one ``ingest`` of every file
beside a good one shows the batch going on, with the reasons.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

KINDS = {
    # 1.8 MB that inflates to about 1.8 GB.
    "bomb.docx": "zip bomb (1.8 MB DOCX)",
    "deep.html": "nested HTML (2.2 MB, 220k levels)",
    "wide.csv": "CSV with 1M columns",
    "many.csv": "CSV with 300k rows (not hostile: the cost of a big table)",
}

RUN = """
import resource, sys, time
from pathlib import Path
from verirag.config import Config
from verirag.ingest.workers import ChunkerSpec, Job, parse_and_chunk
from verirag.documents import ParseError
path = Path(sys.argv[1])
config = Config()
spec = ChunkerSpec(config.tokenizer)
spec.build()  # the tokenizer, as a warm worker has it
start = time.perf_counter()
try:
    parsed = parse_and_chunk(Job(path.name, path.read_bytes(), path.name), spec,
                             config.parse_memory_mb * 2**20)
    outcome = f"parsed: {len(parsed.chunks)} chunks"
except (ParseError, MemoryError) as exc:
    outcome = f"refused: {type(exc).__name__}: {exc}"
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{elapsed:.2f}\\t{peak:.0f}\\t{outcome}")
"""


def write_files(folder: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:  # streamed: never in memory
            for _ in range(1800):
                member.write(bytes(2**20))
    (folder / "bomb.docx").write_bytes(buffer.getvalue())
    depth = 220_000
    (folder / "deep.html").write_text("<html><body>" + "<div>" * depth + "x" + "</div>" * depth)
    columns = 1_000_000
    header = ",".join(f"c{i}" for i in range(columns))
    (folder / "wide.csv").write_text(header + "\n" + ",".join("1" * columns) + "\n")
    (folder / "many.csv").write_text(
        "id,name,city\n" + "".join(f"{i},name {i},city {i % 97}\n" for i in range(300_000))
    )
    (folder / "good.md").write_text("# Good\n\nThe refund window is 30 days.\n")


def main() -> None:
    from verirag import KnowledgeBase

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        write_files(folder)
        print(f"{'file':<11} {'size':>8} {'time s':>7} {'peak MB':>8}  outcome")
        for name, label in KINDS.items():
            path = folder / name
            out = subprocess.run(
                [sys.executable, "-c", RUN, str(path)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},  # as in a worker
            )
            elapsed, peak, outcome = out.stdout.strip().split("\t")
            size = path.stat().st_size / 1e6
            print(f"{name:<11} {size:>6.1f}MB {elapsed:>7} {peak:>8}  {outcome}  [{label}]")
        with KnowledgeBase(Path(tmp) / "kb") as kb:
            start = time.perf_counter()
            report = kb.ingest(folder, index=False)
            elapsed = time.perf_counter() - start
        print(f"\none ingest of all {len(report.outcomes)} files: {elapsed:.1f} s")
        for o in report.outcomes:
            print(f"  {o.status.value:8} {o.doc_id}: {o.reason or ''}")


if __name__ == "__main__":
    main()
