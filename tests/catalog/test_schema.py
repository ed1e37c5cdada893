"""The catalog's schema: chunk text stored once, an older catalog migrated on open, a newer
one refused, and ``check`` finding a span that no longer matches its chunk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from verirag import KnowledgeBase, TextRecord
from verirag.store import CatalogError, schema

POLICY = "# Refunds\n\n## Window\n\nRefunds within 30 days.\n\n## Method\n\nTo the original card.\n"


def _columns(db: Path, table: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[1] for row in conn.execute(f"pragma table_info({table})")]


def _indexes(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {
            name for (name,) in conn.execute("select name from sqlite_master where type='index'")
        }


INDEXES = {"ix_versions_valid_to", "ix_commits_at"}


def test_chunk_text_is_stored_once_as_the_version_text(tmp_path: Path) -> None:
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest_texts([TextRecord("refunds.md", POLICY, format="md")])
        version = kb.version("refunds.md")
        chunks = kb.chunks("refunds.md")
        assert [c.text for c in chunks] == [
            (version.text or "")[c.char_start : c.char_end] for c in chunks
        ]
        assert "Refunds within 30 days." in chunks[0].text
    assert "text" not in _columns(tmp_path / "kb" / "catalog.db", "chunks")
    assert _indexes(tmp_path / "kb" / "catalog.db") >= INDEXES


def test_a_schema_1_catalog_is_migrated_on_open(tmp_path: Path) -> None:
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest_texts([TextRecord("refunds.md", POLICY, format="md")])
        before = [(c.chunk_id, c.text) for c in kb.chunks("refunds.md")]
    db = tmp_path / "kb" / "catalog.db"
    with sqlite3.connect(db) as conn:  # what schema 1 kept: a copy of each chunk's text
        conn.execute("alter table chunks add column text text not null default ''")
        conn.executemany(
            "update chunks set text = ? where chunk_id = ?", [(t, c) for c, t in before]
        )
        conn.execute("update meta set value = '1' where key = 'schema_version'")
        for name in INDEXES:
            conn.execute(f"drop index {name}")
    with KnowledgeBase(tmp_path / "kb") as kb:
        assert [(c.chunk_id, c.text) for c in kb.chunks("refunds.md")] == before
        hits = kb.search("original card", k=1)
        assert hits and hits[0].doc_id == "refunds.md"
        assert kb.check() == []
    assert "text" not in _columns(db, "chunks")
    assert _indexes(db) >= INDEXES
    with sqlite3.connect(db) as conn:
        found = conn.execute("select value from meta where key = 'schema_version'").fetchone()
    assert found is not None and int(found[0]) == schema.SCHEMA_VERSION


def test_a_newer_catalog_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest_texts([TextRecord("refunds.md", POLICY, format="md")])
    with sqlite3.connect(tmp_path / "kb" / "catalog.db") as conn:
        conn.execute(
            "update meta set value = ? where key = 'schema_version'",
            (str(schema.SCHEMA_VERSION + 1),),
        )
    with pytest.raises(CatalogError, match="upgrade verirag"):
        KnowledgeBase(tmp_path / "kb").catalog  # noqa: B018


def test_check_finds_a_span_that_no_longer_matches_its_chunk(tmp_path: Path) -> None:
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest_texts([TextRecord("refunds.md", POLICY, format="md")])
        assert kb.check() == []
    with sqlite3.connect(tmp_path / "kb" / "catalog.db") as conn:
        conn.execute("update version_chunks set char_end = char_end - 3 where ordinal = 0")
    with KnowledgeBase(tmp_path / "kb") as kb:
        assert kb.check() == ["refunds.md@1: chunk text does not match its span"]
