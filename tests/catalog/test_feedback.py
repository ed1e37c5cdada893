"""Feedback on answers, on each database: one word per principal (the latest replaces the
earlier), read back with the record, listed by ``rated``, paged, exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verirag import AuditRecord, Config
from verirag.errors import NotFound
from verirag.store import AuditLog, Database
from verirag.store.db import sqlite_url


def record(n: int) -> AuditRecord:
    return AuditRecord(
        f"{n:032d}", 1000.0 + n, f"question {n}?", "key:a", False, "m", 1, 1, 0.0, {}
    )


def test_feedback_is_kept_with_its_answer(config: Config, tmp_path: Path) -> None:
    audit = AuditLog(Database(config.catalog or sqlite_url(tmp_path / "catalog.db")))
    for n in range(5):
        audit.record(record(n))
    first, last = record(0).answer_id, record(4).answer_id
    audit.give_feedback(first, "key:a", helpful=True, comment="clear")
    audit.give_feedback(first, "key:a", helpful=False, comment="it cites v1")  # replaces
    audit.give_feedback(first, "key:admin", helpful=True)
    audit.give_feedback(last, "key:a", helpful=True)
    got = audit.get(first)
    assert [(f.principal, f.helpful, f.comment) for f in got.feedback] == [
        ("key:a", False, "it cites v1"),
        ("key:admin", True, ""),
    ]
    assert got.to_json()["feedback"][0]["comment"] == "it cites v1"
    assert audit.get(record(2).answer_id).feedback == ()
    with pytest.raises(NotFound):
        audit.give_feedback("0" * 31 + "x", "key:a", helpful=True)

    newest_first = [r.answer_id for r in audit.records()]
    assert newest_first == [record(n).answer_id for n in (4, 3, 2, 1, 0)]
    assert [r.answer_id for r in audit.records(limit=2, offset=2)] == newest_first[2:4]
    assert [r.answer_id for r in audit.records(rated=True)] == [last, first]
    assert [len(r.feedback) for r in audit.records()] == [1, 0, 0, 0, 2]

    out = tmp_path / "rated.jsonl"
    assert audit.export(out, rated=True) == 2
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["answer_id"] for x in lines] == [first, last]  # oldest first
    assert [f["helpful"] for f in lines[0]["feedback"]] == [False, True]
