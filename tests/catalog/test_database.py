"""What a knowledge base keeps in its database, on SQLite and on PostgreSQL alike: search and
cited answers, the audit trail, API keys, evaluation runs and the embedding cache. On
PostgreSQL, several processes commit at once: the sequence stays gap-free in commit order,
and one process at a time is the index writer."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from verirag import Config, KnowledgeBase, TextRecord
from verirag.store import CatalogError, Database, WriterBusy, schema

POLICY = "# Refunds\n\n## Window\n\nRefunds are accepted within 30 days of purchase.\n"


def test_every_repository_works_on_the_database(tmp_path: Path, config: Config) -> None:
    with KnowledgeBase(tmp_path / "kb", config=config) as kb:
        kb.ingest_texts(
            [
                TextRecord("refunds.md", POLICY, format="md"),
                TextRecord("salaries.md", "# Pay\n\nSalaries are paid monthly.\n", access=["hr"]),
            ]
        )
        hits = kb.search("how long do I have to return an item", k=3)
        assert hits[0].doc_id == "refunds.md"
        assert [h.doc_id for h in kb.search("salaries paid", groups=[])] == ["refunds.md"]

        answer = kb.ask("Within how many days are refunds accepted?", principal="key-1")
        assert not answer.abstained and "30 days" in answer.text
        assert kb.audit.get(answer.answer_id).principal == "key-1"

        token = kb.keys.create("ci", ["hr"])
        principal = kb.keys.verify(token)
        assert principal is not None and "hr" in principal.groups
        kb.keys.revoke(kb.keys.all()[0].key_id)
        assert kb.keys.verify(token) is None

        with kb.store.db.engine.connect() as conn:
            cached = conn.execute(select(schema.embedding_cache.c.key)).all()
        assert len(cached) >= 2  # every chunk embedded once, kept for the next index build
        assert kb.check() == []


def test_a_nul_past_the_binary_sniff_is_stored(tmp_path: Path, config: Config) -> None:
    # PostgreSQL's text cannot hold NUL: it is stored as the replacement character.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "log.txt").write_bytes(b"Plain text. " * 1000 + b"Before\x00after the byte.")
    with KnowledgeBase(tmp_path / "kb", config=config) as kb:
        report = kb.ingest(docs)
        assert not report.failed
        assert "Before\ufffdafter the byte." in (kb.version("log.txt").text or "")
        assert kb.check() == []


def _commit_many(url: str, worker: int, n: int) -> None:
    kb_dir = Path(os.environ["VERIRAG_TEST_DIR"]) / f"w{worker}"
    with KnowledgeBase(kb_dir, config=Config(catalog=url)) as kb:
        kb.ingest_texts(
            [TextRecord(f"w{worker}-{i}.md", f"Worker {worker} note {i}.") for i in range(n)],
            index=False,
        )


def test_concurrent_commits_are_numbered_gap_free_in_commit_order(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERIRAG_TEST_DIR", str(tmp_path))
    Database(postgres_url).close()  # the schema, made once
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_commit_many, args=(postgres_url, w, 15)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(300)
        assert p.exitcode == 0
    db = Database(postgres_url)
    with db.engine.connect() as conn:
        rows = conn.execute(select(schema.commits).order_by(schema.commits.c.seq)).all()
    assert [r.seq for r in rows] == list(range(1, 46))
    times = [r.at for r in rows]
    assert times == sorted(times)  # numbered in the order they were made
    assert {r.doc_id.split("-")[0] for r in rows} == {"w0", "w1", "w2"}

    # A commit that rolls back leaves no gap: the next one takes the number it would have.
    with db.engine.connect() as conn:
        db.serialise_commits(conn)
        conn.execute(
            schema.commits.insert().values(seq=46, at=time.time(), doc_id="x", action="new")
        )
        conn.rollback()
    with KnowledgeBase(tmp_path / "after", config=Config(catalog=postgres_url)) as kb:
        kb.ingest_texts([TextRecord("after.md", "After the rollback.")], index=False)
        assert kb.history("after.md")[0].seq == 46
    db.close()


def _hold_writer(url: str, ready: multiprocessing.synchronize.Event) -> None:
    db = Database(url)
    with db.writer_lock("kb"):
        ready.set()
        time.sleep(600)


def test_one_index_writer_at_a_time_and_a_killed_one_lets_go(postgres_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    holder = spawn.Process(target=_hold_writer, args=(postgres_url, ready))
    holder.start()
    try:
        assert ready.wait(60)
        db = Database(postgres_url)
        with pytest.raises(WriterBusy, match="index writer"), db.writer_lock("kb"):
            pass
        with db.writer_lock("another kb"):  # each knowledge base has its own writer
            pass
    finally:
        os.kill(holder.pid or 0, signal.SIGKILL)
        holder.join(30)
    deadline = time.monotonic() + 30
    while True:  # the server drops the lock with the killed process's connection
        try:
            with db.writer_lock("kb"):
                break
        except WriterBusy:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    db.close()


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://verirag:secret@127.0.0.1:1/none"
    with pytest.raises(CatalogError) as raised:
        Database(url)
    message = str(raised.value)
    assert "cannot open the catalog postgresql://verirag:***@127.0.0.1:1/none" in message
    assert "secret" not in message and "\n" not in message


def test_the_schema_is_made_once_by_processes_starting_together(postgres_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    starters = [spawn.Process(target=Database, args=(postgres_url,)) for _ in range(4)]
    for p in starters:
        p.start()
    for p in starters:
        p.join(120)
        assert p.exitcode == 0
    with Database(postgres_url).engine.connect() as conn:
        found = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).all()
    assert [r.value for r in found] == [schema.SCHEMA_VERSION]
