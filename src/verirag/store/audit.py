"""The audit trail: every answer's trace, stored in the catalog database and exportable."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from verirag.errors import NotFound
from verirag.store import schema as s
from verirag.store.db import Database


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
        }


class AuditLog:
    """The ``answers`` table: append, look up, list, export."""

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
        return AuditRecord(**row._asdict())

    def records(
        self, *, limit: int | None = None, since: float | None = None, principal: str | None = None
    ) -> Iterator[AuditRecord]:
        """Newest first; only ``principal``'s when given."""
        query = select(s.answers).order_by(s.answers.c.created_at.desc())
        if since is not None:
            query = query.where(s.answers.c.created_at >= since)
        if principal is not None:
            query = query.where(s.answers.c.principal == principal)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield AuditRecord(**row._asdict())

    def export(self, path: Path) -> int:
        """Every record as one JSON line, oldest first; returns how many."""
        return write_jsonl(self.records(), path)


def write_jsonl(records: Iterable[AuditRecord], path: Path) -> int:
    """Records given newest first (as ``records()`` yields them) as JSON lines, oldest
    first; returns how many."""
    ordered = list(records)
    with path.open("w", encoding="utf-8") as handle:
        for record in reversed(ordered):
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    return len(ordered)
