"""A rebuild happens beside the index in use and is switched in between searches: searches
running throughout all succeed, at the same versions, and as-of reads still see history."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.conftest import write
from verirag import KnowledgeBase


def test_searches_go_on_while_the_index_is_rebuilt(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for i in range(300):
        write(docs, f"n{i:03d}.md", f"# Notice {i}\n\nItem {i} ships within {i % 9 + 1} days.\n")
    write(docs, "refunds.md", "# Refunds\n\nThe refund window is 30 days.\n")
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest(docs)
        write(docs, "refunds.md", "# Refunds\n\nThe refund window is 45 days.\n")
        kb.ingest(docs)
        first = kb.history("refunds.md")[0].ingested_at
        rebuilding, searched, stop = threading.Event(), threading.Event(), threading.Event()
        during: list[int] = []
        errors: list[BaseException] = []

        def reader() -> None:
            while not stop.is_set():
                try:
                    hits = kb.search("how long is the refund window?", k=3)
                    old = kb.search("refund window", k=1, as_of=first)
                except BaseException as exc:  # collected, asserted below
                    errors.append(exc)
                    return
                assert hits[0].doc_id == "refunds.md" and hits[0].version == 2
                assert old[0].version == 1
                if rebuilding.is_set():
                    during.append(1)
                    searched.set()

        def halfway(done: int, total: int) -> None:
            """The rebuild's progress: it goes on once a search has run against the old
            index meanwhile."""
            rebuilding.set()
            searched.wait(30)

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        kb.reindex(on_embed=halfway)
        rebuilding.clear()
        time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join()

        assert errors == []
        assert during, "no search ran while the index was rebuilt"
        assert kb.index.watermark == kb.catalog.last_seq()
        assert kb.check() == []
    assert sorted(p.name for p in (tmp_path / "kb").iterdir() if p.name.startswith("index")) == [
        "index"
    ]
