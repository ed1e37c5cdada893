"""``verirag migrate`` from the embedded profile to the cluster profile (PostgreSQL catalog,
qdrant-client index) and back: documents, versions, history, audit, keys and evaluation runs
arrive identical, commit numbers included, and each copy searches as the original did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import run_verirag
from verirag import InvalidInput, KnowledgeBase, TextRecord
from verirag.store import schema

TABLES = [
    *("commits", "documents", "versions", "chunks", "version_chunks"),
    *("answers", "api_keys", "eval_runs", "embedding_cache"),
]


def dump(kb: KnowledgeBase) -> dict[str, list[Any]]:
    """Every row of every table the migration carries, in key order."""
    found = {}
    with kb.store.db.engine.connect() as conn:
        for name in TABLES:
            table = schema.metadata.tables[name]
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            found[name] = [tuple(r) for r in rows]
    return found


def test_round_trip_embedded_to_cluster_and_back(tmp_path: Path, postgres_url: str) -> None:
    with KnowledgeBase(tmp_path / "embedded") as kb:
        kb.ingest_texts(
            [
                TextRecord("refunds.md", "# Refunds\n\nRefunds within 30 days.\n"),
                TextRecord("pay.md", "# Pay\n\nSalaries are paid monthly.\n", access=["hr"]),
            ]
        )
        kb.ingest_texts([TextRecord("refunds.md", "# Refunds\n\nRefunds within 14 days.\n")])
        kb.remove("pay.md")
        kb.ask("How long is the refund window?", principal="key-1")
        kb.keys.create("ci", ["hr"])
        before = dump(kb)
        searched = [(h.doc_id, h.version) for h in kb.search("refund window", k=3)]
        cluster = f"qdrant+local:{tmp_path / 'qdrant'}"
        copied = kb.migrate(tmp_path / "cluster", catalog=postgres_url, index=cluster)
        assert copied["versions"] == 4 and copied["answers"] == 1
        with pytest.raises(InvalidInput, match="empty database"):
            kb.migrate(tmp_path / "again", catalog=postgres_url, index=cluster)
    assert before["embedding_cache"]  # vectors travel: nothing is embedded again

    # Back, through the CLI, from the cluster profile to a new embedded knowledge base.
    done = run_verirag(tmp_path / "cluster", "migrate", str(tmp_path / "back"))
    assert done.returncode == 0, done.stderr
    assert "migrated to" in done.stdout
    for path in (tmp_path / "cluster", tmp_path / "back"):
        with KnowledgeBase(path) as moved:
            assert dump(moved) == before
            assert moved.check() == []
            assert [(h.doc_id, h.version) for h in moved.search("refund window", k=3)] == searched
            assert [v.version for v in moved.history("pay.md")] == [1, 2]
            assert [r.principal for r in moved.audit.records()] == ["key-1"]
    with KnowledgeBase(tmp_path / "cluster") as moved:
        assert moved.config.catalog == postgres_url
        assert moved.config.index == f"qdrant+local:{tmp_path / 'qdrant'}"
