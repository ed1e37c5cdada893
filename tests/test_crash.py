"""Killing an ingest mid-batch loses nothing committed and leaves nothing half-written."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import write
from verirag import KnowledgeBase, Status

N_FILES = 1500


def committed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM versions").fetchone()[0])
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_kill_during_batch_then_reopen_and_resume(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for i in range(N_FILES):
        write(
            docs,
            f"d{i:05d}.md",
            f"# Doc {i}\n\n## Part 0\n\nFirst {i}.\n\n## Part 1\n\nLast {i}.\n",
        )
    kb_path = tmp_path / "kb"
    db = kb_path / "catalog.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "verirag", "--kb", str(kb_path), "ingest", str(docs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while committed(db) < 25 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""

    with KnowledgeBase(kb_path) as kb:
        assert kb.check() == []
        done = kb.documents()
        assert 25 <= len(done) < N_FILES, "the kill must land mid-batch"
        for info in done[:50]:  # committed documents are whole: both parts, chunked
            number = int(info.doc_id[1:6])
            assert (kb.version(info.doc_id).text or "").endswith(f"Last {number}.")
            assert [c.section[-1] for c in kb.chunks(info.doc_id)] == ["Part 0", "Part 1"]

        report = kb.ingest(docs)  # the same batch again finishes the job
        counts = report.counts()
        assert counts[Status.UNCHANGED] == len(done)
        assert counts[Status.NEW] == N_FILES - len(done)
        assert counts[Status.FAILED] == 0
        assert kb.check() == []
        # The index was reconciled with the catalog: every document is searchable.
        assert kb.index.watermark == kb.catalog.last_seq()
        assert kb.search("Last 1499", k=1)[0].doc_id == "d01499.md"
