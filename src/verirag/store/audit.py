"""The audit trail: every answer's trace, stored in the catalog database and exportable."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, select

from verirag.errors import NotFound
from verirag.store import schema as s
from verirag.store.db import Database


@dataclass(frozen=True, slots=True)
class Feedback:
    """One principal's word on an answer: helpful or not, and why."""

    principal: str
    created_at: float
    helpful: bool
    comment: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    answer_id: str
    created_at: float
    question: str
    principal: str | None
    abstained: bool
    model: str
    tokens_in: int
    tokens_out: int
    cost: float
    trace: dict[str, Any]
    feedback: tuple[Feedback, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "answer_id": self.answer_id,
            "created_at": self.created_at,
            "question": self.question,
            "principal": self.principal,
            "abstained": self.abstained,
            "model": self.model,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": self.cost,
            **self.trace,
            "feedback": [asdict(f) for f in self.feedback],
        }


class AuditLog:
    """The ``answers`` table (append, look up, list, export) and the feedback on them."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def record(self, record: AuditRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                s.answers.insert(),
                {
                    "answer_id": record.answer_id,
                    "created_at": record.created_at,
                    "question": record.question,
                    "principal": record.principal,
                    "abstained": record.abstained,
                    "model": record.model,
                    "tokens_in": record.tokens_in,
                    "tokens_out": record.tokens_out,
                    "cost": record.cost,
                    "trace": record.trace,
                },
            )

    def get(self, answer_id: str) -> AuditRecord:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.answers).where(s.answers.c.answer_id == answer_id)
            ).one_or_none()
            if row is None:
                raise NotFound(f"no answer {answer_id!r} in the audit trail")
            return _with_feedback(conn, [AuditRecord(**row._asdict())])[0]

    def records(
        self,
        *,
        limit: int | None = None,
        offset: int = 0,
        since: float | None = None,
        principal: str | None = None,
        rated: bool = False,
    ) -> Iterator[AuditRecord]:
        """Newest first, each with its feedback; only ``principal``'s when given, only those
        with feedback when ``rated``."""
        a = s.answers
        query = select(a).order_by(a.c.created_at.desc(), a.c.answer_id)
        if since is not None:
            query = query.where(a.c.created_at >= since)
        if principal is not None:
            query = query.where(a.c.principal == principal)
        if rated:
            query = query.where(a.c.answer_id.in_(select(s.feedback.c.answer_id)))
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        with self.engine.connect() as conn:
            result = conn.execute(query)
            while page := result.fetchmany(_PAGE):
                yield from _with_feedback(conn, [AuditRecord(**r._asdict()) for r in page])

    def give_feedback(
        self, answer_id: str, principal: str, *, helpful: bool, comment: str = ""
    ) -> Feedback:
        """Record ``principal``'s feedback on an answer, replacing their earlier word."""
        given = Feedback(principal, time.time(), helpful, comment)
        f = s.feedback
        with self.engine.begin() as conn:
            found = conn.execute(
                select(s.answers.c.answer_id).where(s.answers.c.answer_id == answer_id)
            ).one_or_none()
            if found is None:
                raise NotFound(f"no answer {answer_id!r} in the audit trail")
            conn.execute(
                delete(f).where((f.c.answer_id == answer_id) & (f.c.principal == principal))
            )
            conn.execute(f.insert(), {"answer_id": answer_id, **asdict(given)})
        return given

    def export(self, path: Path, *, rated: bool = False) -> int:
        """Every record (only those with feedback when ``rated``) as one JSON line, oldest
        first; returns how many."""
        return write_jsonl(self.records(rated=rated), path)


_PAGE = 500  # records per feedback look-up (one query for each page of answers)


def _with_feedback(conn: Connection, records: list[AuditRecord]) -> list[AuditRecord]:
    f = s.feedback
    query = (
        select(f)
        .where(f.c.answer_id.in_([r.answer_id for r in records]))
        .order_by(f.c.created_at, f.c.principal)
    )
    given: dict[str, list[Feedback]] = {}
    for row in conn.execute(query):
        given.setdefault(row.answer_id, []).append(
            Feedback(row.principal, row.created_at, row.helpful, row.comment)
        )
    return [replace(r, feedback=tuple(given.get(r.answer_id, ()))) for r in records]


def write_jsonl(records: Iterable[AuditRecord], path: Path) -> int:
    """Records given newest first (as ``records()`` yields them) as JSON lines, oldest
    first; returns how many."""
    ordered = list(records)
    with path.open("w", encoding="utf-8") as handle:
        for record in reversed(ordered):
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    return len(ordered)
