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


def _kill_after(args: list[str], kb_path: Path, wait: float) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "verirag", "--kb", str(kb_path), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(wait)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_kills_across_sync_and_reindex_leave_catalog_and_index_consistent(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    n = 300
    for i in range(n):
        write(docs, f"d{i:04d}.md", f"# Doc {i}\n\nThe code of doc {i} is alpha{i}.\n")
    kb_path = tmp_path / "kb"
    with KnowledgeBase(kb_path) as kb:
        kb.ingest(docs)
    for i in range(0, n, 2):  # half change, a tenth go away
        write(docs, f"d{i:04d}.md", f"# Doc {i}\n\nThe code of doc {i} is beta{i}.\n")
    for i in range(1, n, 10):
        (docs / f"d{i:04d}.md").unlink()
    trials = [
        (["ingest", "--sync", str(docs)], 2.5),
        (["ingest", "--sync", str(docs)], 4.0),
        (["reindex"], 3.0),
        (["ingest", "--sync", str(docs)], 5.0),
        (["reindex"], 4.0),
    ]
    committed_before = committed(kb_path / "catalog.db")
    for args, wait in trials:
        _kill_after(args, kb_path, wait)
        now = committed(kb_path / "catalog.db")
        assert now >= committed_before  # nothing committed is lost
        committed_before = now
        with KnowledgeBase(kb_path) as kb:
            assert kb.check() == []
            live = {d.doc_id: d.current_version for d in kb.documents()}
            for i in range(0, n, 15):
                doc = f"d{i:04d}.md"
                hits = kb.search(f"code of doc {i}", k=10, doc_ids=[doc])
                # No query sees two versions of a document, and never a removed one.
                assert {h.version for h in hits} <= ({live[doc]} if doc in live else set())
            assert kb.index.watermark == kb.catalog.last_seq()
    with KnowledgeBase(kb_path) as kb:  # the batch finishes, whatever the kills interrupted
        kb.ingest(docs, sync=True)
        assert len(kb.documents()) == n - len(range(1, n, 10))
        assert kb.search("beta0", k=1)[0].doc_id == "d0000.md"
        assert kb.check() == []
