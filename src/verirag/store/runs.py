"""Evaluation runs kept in the catalog database, so results stay beside what they measured."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select

from verirag.errors import NotFound
from verirag.store import schema as s
from verirag.store.db import Database


class Run(Protocol):
    """An evaluation run as JSON: ``settings``, ``summary`` and ``questions``."""

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class StoredRun:
    run_id: str
    created_at: float
    kind: str
    principal: str | None
    settings: dict[str, Any]
    summary: dict[str, Any]
    questions: list[dict[str, Any]]

    def to_json(self, *, questions: bool = True) -> dict[str, Any]:
        data = {
            "run_id": self.run_id,
            "created_at": self.created_at,
            "kind": self.kind,
            "principal": self.principal,
            "settings": self.settings,
            "summary": self.summary,
        }
        return data | {"questions": self.questions} if questions else data


class EvalRuns:
    """The ``eval_runs`` table: add, get, list (newest first)."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def add(self, run: Run, *, kind: str = "qa", principal: str | None = None) -> str:
        run_id = uuid.uuid4().hex
        data = run.to_json()
        with self.engine.begin() as conn:
            conn.execute(
                s.eval_runs.insert(),
                {
                    "run_id": run_id,
                    "created_at": time.time(),
                    "kind": kind,
                    "principal": principal,
                    "settings": data["settings"],
                    "summary": data["summary"],
                    "questions": data["questions"],
                },
            )
        return run_id

    def get(self, run_id: str) -> StoredRun:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.eval_runs).where(s.eval_runs.c.run_id == run_id)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no evaluation run {run_id!r}")
        return StoredRun(**row._asdict())

    def runs(self, *, limit: int = 50, principal: str | None = None) -> list[StoredRun]:
        query = select(s.eval_runs).order_by(s.eval_runs.c.created_at.desc()).limit(limit)
        if principal is not None:
            query = query.where(s.eval_runs.c.principal == principal)
        with self.engine.connect() as conn:
            return [StoredRun(**row._asdict()) for row in conn.execute(query)]
