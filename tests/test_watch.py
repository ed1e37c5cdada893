"""``watch`` follows a folder: new and edited files are ingested, deleted ones tombstoned."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import write
from verirag import KnowledgeBase, Outcome, Status


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the watcher"
        time.sleep(0.05)


def test_watch_ingests_edits_and_removals(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "a.md", "# A\n\nAlpha.\n")
    seen: list[Outcome] = []
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest(docs, sync=True)
        stop = threading.Event()
        watcher = threading.Thread(
            target=kb.watch,
            args=(docs,),
            kwargs={
                "stop_event": stop,
                "debounce_ms": 50,
                "on_progress": lambda o, _d, _t: seen.append(o),
            },
        )
        watcher.start()
        try:
            time.sleep(0.5)  # let the watcher start
            write(docs, "b.md", "# B\n\nBeta.\n")
            wait_for(lambda: any(o.doc_id == "b.md" and o.status is Status.NEW for o in seen))
            write(docs, "a.md", "# A\n\nAlpha, edited.\n")
            wait_for(lambda: any(o.doc_id == "a.md" and o.status is Status.CHANGED for o in seen))
            (docs / "b.md").unlink()
            wait_for(lambda: any(o.doc_id == "b.md" and o.status is Status.REMOVED for o in seen))
            write(docs, "a.md.verirag.toml", 'access = ["team"]\n')
            wait_for(lambda: kb.version("a.md").access == ["team"])
        finally:
            stop.set()
            watcher.join(timeout=10)
        assert not watcher.is_alive()
        assert "edited" in (kb.version("a.md").text or "")
        assert [d.doc_id for d in kb.documents()] == ["a.md"]
        assert kb.check() == []


def test_watch_filters_changes_as_ingest_filters_a_folder(tmp_path: Path) -> None:
    from verirag.ingest import Selector, changes, discover
    from verirag.ingest.watch import classify

    assert callable(changes)
    docs = tmp_path / "docs"
    write(docs, "a.md", "# A\n\nAlpha.\n")
    write(docs, ".hidden.md", "# H\n\nHidden.\n")
    write(docs, ".git/notes.md", "# N\n\nNotes.\n")
    write(docs, "image.png", "not a document")
    write(tmp_path, "outside.md", "# O\n\nOutside.\n")
    (docs / "link.md").symlink_to(tmp_path / "outside.md")
    names = ("a.md", ".hidden.md", ".git/notes.md", "image.png", "link.md", "deleted.md")
    found = classify(
        Selector(docs.resolve()), [docs.resolve() / n for n in (*names, "a.md.verirag.toml")]
    )
    sources, failures = discover([docs])
    assert [s.doc_id for s in found.sources] == [s.doc_id for s in sources] == ["a.md"]
    # The watcher fails what ingest fails; what ingest reports as skipped, it ignores.
    failed = [(f.doc_id, f.reason) for f in failures if f.status is Status.FAILED]
    assert [(f.doc_id, f.reason) for f in found.failures] == failed
    assert [f.doc_id for f in found.failures] == ["link.md"]
    assert sorted((f.doc_id, f.reason) for f in failures if f.status is Status.SKIPPED) == [
        (".git/", "hidden"),
        (".hidden.md", "hidden"),
        ("image.png", "unsupported file type '.png'"),
    ]
    assert found.gone == ["deleted.md"]
