"""A bounded history: superseded versions stay searchable as of any time inside
``history_days``, leave the index after it, and an as-of query older than that is refused
with a message that says how to get it back, never answered from what is left."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import write
from verirag import Config, KnowledgeBase, OutsideHistory
from verirag.index import Scope

WINDOW_S = 3.0


def test_as_of_inside_the_window_then_refused_after_compaction(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "refunds.md", "# Refunds\n\nThe refund window is 30 days.\n")
    write(docs, "shipping.md", "# Shipping\n\nParcels ship within 2 days.\n")
    config = Config(history_days=WINDOW_S / 86400)
    with KnowledgeBase(tmp_path / "kb", config=config) as kb:
        kb.ingest(docs)
        write(docs, "refunds.md", "# Refunds\n\nThe refund window is 45 days.\n")
        kb.ingest(docs)
        first = kb.history("refunds.md")[0]
        # Inside the window: the old version answers as of its time.
        old = kb.search("refund window", k=1, as_of=first.ingested_at)
        assert (old[0].doc_id, old[0].version) == ("refunds.md", 1)
        assert kb.index.count(Scope(first.seq, doc_ids=["refunds.md"])) == 1

        time.sleep(WINDOW_S + 0.5)
        write(docs, "shipping.md", "# Shipping\n\nParcels ship within 3 days.\n")
        kb.ingest(docs)  # a sync, which compacts to the horizon

        assert kb.index.horizon >= kb.history("refunds.md")[1].seq
        # The superseded points are gone from the index, still in the catalog.
        assert kb.index.count(Scope(first.seq, doc_ids=["refunds.md"])) == 0
        assert "30 days" in kb.version("refunds.md", 1).text
        with pytest.raises(OutsideHistory, match=r"history_days.*reindex"):
            kb.search("refund window", k=1, as_of=first.ingested_at)
        # The live versions and as-of times after the horizon are unaffected.
        live = kb.search("refund window", k=1)
        assert (live[0].doc_id, live[0].version) == ("refunds.md", 2)
        now = kb.search("how fast do parcels ship", k=1, as_of=time.time())
        assert (now[0].doc_id, now[0].version) == ("shipping.md", 2)
        answer = kb.ask("How long is the refund window?")
        assert "45 days" in answer.text

    # History kept for ever again: a rebuild brings the old versions back.
    Config.configure(tmp_path / "kb", history_days=None)
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.reindex()
        assert kb.index.horizon == 0
        old = kb.search("refund window", k=1, as_of=first.ingested_at)
        assert (old[0].doc_id, old[0].version) == ("refunds.md", 1)


def test_a_rebuild_leaves_out_what_is_outside_the_window(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "a.md", "# A\n\nAlpha one.\n")
    with KnowledgeBase(tmp_path / "kb", config=Config(history_days=None)) as kb:
        kb.ingest(docs)
        write(docs, "a.md", "# A\n\nAlpha two.\n")
        kb.ingest(docs)
        first = kb.history("a.md")[0]
    time.sleep(1.0)
    Config.configure(tmp_path / "kb", history_days=0.5 / 86400)
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.reindex()
        assert kb.index.count(Scope(first.seq, doc_ids=["a.md"])) == 0
        with pytest.raises(OutsideHistory):
            kb.search("alpha", k=1, as_of=first.ingested_at)
        assert kb.search("alpha", k=1)[0].version == 2
