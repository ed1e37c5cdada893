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

N_FILES = 3000


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
        sections = "\n\n".join(
            f"## Part {j}\n\nDocument {i} part {j} says {i * j} units." for j in range(4)
        )
        write(docs, f"d{i:05d}.md", f"# Doc {i}\n\n{sections}\n")
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
        for info in done[:50]:  # committed documents are whole: all four parts, chunked
            version = kb.version(info.doc_id)
            assert "part 3 says" in (version.text or "")  # the document's last words
            assert [c.section[-1] for c in kb.chunks(info.doc_id)] == [
                f"Part {j}" for j in range(4)
            ]

        report = kb.ingest(docs)  # the same batch again finishes the job
        counts = report.counts()
        assert counts[Status.UNCHANGED] == len(done)
        assert counts[Status.NEW] == N_FILES - len(done)
        assert counts[Status.FAILED] == 0
        assert kb.check() == []
