"""Versioning: no-op re-ingest, new versions on change, tombstones, re-adds, settings, history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import write
from verirag import Config, KnowledgeBase, Status, TextRecord
from verirag.store import schema

POLICY = "# Refunds\n\n## Window\n\nRefunds within 30 days.\n\n## Method\n\nTo the original card.\n"


def test_identical_content_is_a_no_op_even_when_touched(kb: KnowledgeBase, docs: Path) -> None:
    path = write(docs, "refunds.md", POLICY)
    assert kb.ingest(docs)["refunds.md"].status is Status.NEW
    seq = kb.catalog.last_seq()
    os.utime(path, (1_000_000_000, 1_000_000_000))  # a new mtime alone is not a change
    report = kb.ingest(docs)
    assert report["refunds.md"].status is Status.UNCHANGED
    assert kb.catalog.last_seq() == seq
    assert [v.version for v in kb.history("refunds.md")] == [1]


def test_changed_content_makes_a_new_version_and_keeps_unchanged_chunks(
    kb: KnowledgeBase, docs: Path
) -> None:
    write(docs, "refunds.md", POLICY)
    kb.ingest(docs)
    old_chunks = kb.chunks("refunds.md")
    write(docs, "refunds.md", POLICY.replace("30 days", "14 days"))
    report = kb.ingest(docs)
    assert (report["refunds.md"].status, report["refunds.md"].version) == (Status.CHANGED, 2)

    v1, v2 = kb.history("refunds.md")
    assert not v1.current and v1.valid_to_seq == v2.seq and v2.current
    assert "14 days" in (kb.version("refunds.md").text or "")
    assert "30 days" in (kb.version("refunds.md", 1).text or "")
    new_chunks = kb.chunks("refunds.md")
    assert old_chunks[1].chunk_id == new_chunks[1].chunk_id  # "Method" did not change
    assert old_chunks[0].chunk_id != new_chunks[0].chunk_id
    # The unchanged chunk is stored once and shared by both versions.
    with kb.store.db.engine.connect() as conn:
        rows = conn.execute(select(schema.chunks.c.chunk_id)).all()
    assert len(rows) == 3
    assert kb.check() == []


def test_diff_between_versions(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "refunds.md", POLICY)
    kb.ingest(docs)
    write(docs, "refunds.md", POLICY.replace("30 days", "14 days"))
    kb.ingest(docs)
    lines = kb.diff("refunds.md", 1, 2)
    assert "-Refunds within 30 days." in lines and "+Refunds within 14 days." in lines
    assert lines[0] == "--- refunds.md@1"


def test_sync_tombstones_removed_files_and_a_re_add_continues_history(
    kb: KnowledgeBase, docs: Path
) -> None:
    write(docs, "a.md", "# A\n\nAlpha.\n")
    write(docs, "sub/b.md", "# B\n\nBeta.\n")
    kb.ingest(docs)
    (docs / "sub" / "b.md").unlink()

    plain = kb.ingest(docs)  # without --sync nothing is removed
    assert [d.doc_id for d in kb.documents()] == ["a.md", "sub/b.md"]
    assert plain.counts()[Status.REMOVED] == 0

    synced = kb.ingest(docs, sync=True)
    assert synced["sub/b.md"].status is Status.REMOVED
    assert [d.doc_id for d in kb.documents()] == ["a.md"]
    removed = kb.documents(include_removed=True)[1]
    assert (removed.doc_id, removed.current_version, removed.latest_version) == (
        "sub/b.md",
        None,
        2,
    )
    assert kb.version("sub/b.md").version == 1  # the last readable version

    write(docs, "sub/b.md", "# B\n\nBeta is back.\n")
    back = kb.ingest(docs, sync=True)
    assert (back["sub/b.md"].status, back["sub/b.md"].version) == (Status.NEW, 3)
    history = kb.history("sub/b.md")
    assert [(v.version, v.tombstone, v.current) for v in history] == [
        (1, False, False),
        (2, True, False),
        (3, False, True),
    ]
    assert kb.check() == []


def test_sync_is_scoped_to_its_prefix(kb: KnowledgeBase, tmp_path: Path) -> None:
    hr, eng = tmp_path / "hr", tmp_path / "eng"
    write(hr, "leave.md", "# Leave\n\n25 days.\n")
    write(eng, "deploy.md", "# Deploy\n\nBefore 16:00.\n")
    kb.ingest(hr, prefix="hr/")
    kb.ingest(eng, prefix="eng/", sync=True)
    assert [d.doc_id for d in kb.documents()] == ["eng/deploy.md", "hr/leave.md"]


def test_access_and_metadata_from_flags_and_sidecar(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "salaries.md", "# Salaries\n\nBands by level.\n")
    write(
        docs, "salaries.md.verirag.toml", 'access = ["hr", "finance"]\n[metadata]\nowner = "Ana"\n'
    )
    write(docs, "menu.md", "# Menu\n\nSoup on Mondays.\n")
    kb.ingest(docs, metadata={"tag": "handbook"})
    salaries, menu = kb.version("salaries.md"), kb.version("menu.md")
    assert salaries.access == ["finance", "hr"]
    assert salaries.metadata == {"tag": "handbook", "owner": "Ana"}
    assert menu.access == ["public"] and menu.metadata == {"tag": "handbook"}

    # Not given again: inherited, so a plain re-ingest is a no-op and never changes access.
    (docs / "salaries.md.verirag.toml").unlink()
    report = kb.ingest(docs)
    assert report.counts()[Status.UNCHANGED] == 2
    assert kb.version("salaries.md").access == ["finance", "hr"]

    # Given and different: a new version with the same text and the same chunks.
    report = kb.ingest(docs / "menu.md", access=["staff"])
    assert (report["menu.md"].status, report["menu.md"].version) == (Status.CHANGED, 2)
    assert kb.version("menu.md").access == ["staff"]
    assert [c.chunk_id for c in kb.chunks("menu.md", 1)] == [
        c.chunk_id for c in kb.chunks("menu.md", 2)
    ]


def test_ingest_texts_with_titles(kb: KnowledgeBase) -> None:
    records = [
        TextRecord("doc-1", "Aspirin lowers fever.", title="Aspirin"),
        TextRecord("doc-2", "# Notes\n\nIbuprofen too.", format="md"),
        TextRecord("doc-3", "Paracetamol for pain."),
    ]
    report = kb.ingest_texts(records)
    assert report.counts()[Status.NEW] == 3
    assert kb.version("doc-1").title == "Aspirin"
    # A given title is every chunk's context (it was the file-name fallback "doc-1").
    assert [c.context for c in kb.chunks("doc-1")] == ["Aspirin"]
    assert kb.chunks("doc-2")[0].context == "Notes"  # no title given: the first heading
    assert kb.chunks("doc-3")[0].context == ""  # nor a heading: not its id either
    assert kb.version("doc-2").format == "markdown"
    assert kb.ingest_texts(records).counts()[Status.UNCHANGED] == 3


def test_remove_and_reopen(tmp_path: Path, docs: Path, config: Config) -> None:
    write(docs, "a.md", "# A\n\nAlpha.\n")
    with KnowledgeBase(tmp_path / "kb", config=config) as kb:
        kb.ingest(docs)
        assert kb.remove("a.md").status is Status.REMOVED
    with KnowledgeBase(tmp_path / "kb", config=config) as kb:
        assert kb.documents() == []
        assert [v.tombstone for v in kb.history("a.md")] == [False, True]


def test_commit_sequence_orders_every_change(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "a.md", "# A\n\nOne.\n")
    kb.ingest(docs)
    write(docs, "a.md", "# A\n\nTwo.\n")
    kb.ingest(docs)
    kb.remove("a.md")
    seqs = [v.seq for v in kb.history("a.md")]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert kb.catalog.last_seq() == seqs[-1]


def test_sync_refuses_a_file_path(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "a.md", "# A\n\nAlpha.\n")
    write(docs, "b.md", "# B\n\nBeta.\n")
    kb.ingest(docs)
    with pytest.raises(ValueError, match="sync mirrors directories"):
        kb.ingest(docs / "a.md", sync=True)
    assert len(kb.documents()) == 2


def test_files_over_the_size_limit_are_skipped(tmp_path: Path, docs: Path, config: Config) -> None:
    write(docs, "big.txt", "word " * 300_000)  # 1.5 MB
    write(docs, "small.txt", "A small file.")
    limited = config.model_copy(update={"max_file_mb": 1})
    with KnowledgeBase(tmp_path / "kb", config=limited) as kb:
        report = kb.ingest(docs)
    assert report["big.txt"].status is Status.SKIPPED
    assert report["big.txt"].reason == "file too large (2 MB; the limit is 1 MB)"
    assert report.skipped == [report["big.txt"]] and not report.failed
    assert report["small.txt"].status is Status.NEW


def test_previous_skips_a_tombstone(kb: KnowledgeBase) -> None:
    kb.ingest_texts([TextRecord("note.md", "Refunds within 30 days.")])
    kb.remove("note.md")
    kb.ingest_texts([TextRecord("note.md", "Refunds within 14 days.")])
    assert [(v.version, v.tombstone) for v in kb.history("note.md")] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    before = kb.catalog.previous("note.md", 3)
    assert before is not None and (before.version, before.text) == (1, "Refunds within 30 days.")
    assert kb.catalog.previous("note.md", 1) is None


def test_one_passage_twice_spaced_differently_passes_check(kb: KnowledgeBase, docs: Path) -> None:
    write(
        docs,
        "install.md",
        "# Install\n\n## Linux\n\n### Example\n\n```\npip install verirag\nverirag ingest docs/"
        "\n```\n\n## macOS\n\n### Example\n\n```\npip  install verirag\n"
        "verirag   ingest docs/\n```\n",
    )
    kb.ingest(docs)
    chunks = kb.chunks("install.md")
    assert [c.section[1] for c in chunks] == ["Linux", "macOS"]
    assert chunks[0].chunk_id == chunks[1].chunk_id  # one identity: the normalised text
    # Each place keeps its own text: a chunk's text is its span of the version's text.
    assert "pip install" in chunks[0].text and "pip  install" in chunks[1].text
    assert kb.check() == []
