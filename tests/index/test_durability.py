"""A publish the index has not flushed yet is searchable at once, and a crash before the flush
loses nothing: the catalog replays it on the next open."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import write
from verirag import KnowledgeBase

_CRASH_AFTER_PUBLISH = textwrap.dedent(
    """
    import os, signal, sys
    from verirag import KnowledgeBase

    if __name__ == "__main__":
        kb = KnowledgeBase(sys.argv[1])
        kb.durable_every = 3600.0
        kb.ingest(sys.argv[2])
        hits = kb.search("the refund window is 45 days", k=1)
        print(hits[0].doc_id, kb.index.watermark, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no close: nothing flushed since the open
    """
)


def test_unflushed_publish_is_visible_and_replayed_after_a_crash(tmp_path: Path) -> None:
    kb_path = tmp_path / "kb"
    with KnowledgeBase(kb_path) as kb:  # an index at watermark 0, durably
        assert kb.index.watermark == 0
    docs = tmp_path / "docs"
    write(docs, "refunds.md", "# Refunds\n\n## Window\n\nThe refund window is 45 days.\n")
    script = tmp_path / "crash.py"
    script.write_text(_CRASH_AFTER_PUBLISH)

    run = subprocess.run(
        [sys.executable, str(script), str(kb_path), str(docs)], capture_output=True, text=True
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    doc_id, published = run.stdout.split()
    assert doc_id == "refunds.md" and int(published) > 0  # readers saw it before any flush
    state = json.loads((kb_path / "index" / "state.json").read_text())
    assert state["watermark"] == 0  # what the shard holds durably: nothing of it

    with KnowledgeBase(kb_path) as kb:
        assert kb.index.watermark == kb.catalog.last_seq() == int(published)
        assert kb.search("the refund window is 45 days", k=1)[0].doc_id == "refunds.md"
        assert kb.check() == []


def test_a_durable_publish_is_recorded_at_once(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "refunds.md", "# Refunds\n\nThe refund window is 45 days.\n")
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest(docs)
        state = json.loads((tmp_path / "kb" / "index" / "state.json").read_text())
        assert state["watermark"] == kb.index.watermark == kb.catalog.last_seq()
