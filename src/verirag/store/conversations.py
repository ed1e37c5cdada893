"""Conversations kept in the catalog: a thread of questions, each turn with the standalone
question it was searched as and the answer's audit id."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from verirag.errors import NotFound
from verirag.store import schema as s
from verirag.store.db import Database

TITLE_CHARS = 80


def _title(text: str) -> str:
    return " ".join(text.split())[:TITLE_CHARS]


@dataclass(frozen=True, slots=True)
class Turn:
    n: int
    created_at: float
    question: str
    standalone: str
    rewrite: str
    answer_id: str
    answer: str


@dataclass(frozen=True, slots=True)
class Conversation:
    conversation_id: str
    principal: str | None
    title: str
    created_at: float
    updated_at: float
    n_turns: int = 0
    turns: list[Turn] = field(default_factory=list)  # read by ``get`` only

    def to_json(self, *, turns: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "conversation_id": self.conversation_id,
            "title": self.title,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "n_turns": self.n_turns,
        }
        if turns:
            data["turns"] = [
                {
                    "n": t.n,
                    "created_at": t.created_at,
                    "question": t.question,
                    "standalone_question": t.standalone,
                    "rewrite": t.rewrite,
                    "answer_id": t.answer_id,
                    "answer": t.answer,
                }
                for t in self.turns
            ]
        return data


class Conversations:
    """The ``conversations`` and ``turns`` tables. Whose a conversation is, is the caller's
    check (:meth:`verirag.access.Principal.owns` on ``principal``)."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def start(self, principal: str | None, title: str = "") -> str:
        conversation_id = uuid.uuid4().hex
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                s.conversations.insert(),
                {
                    "conversation_id": conversation_id,
                    "principal": principal,
                    "title": _title(title),
                    "created_at": now,
                    "updated_at": now,
                },
            )
        return conversation_id

    def get(self, conversation_id: str) -> Conversation:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.conversations).where(s.conversations.c.conversation_id == conversation_id)
            ).one_or_none()
            if row is None:
                raise NotFound(f"no conversation {conversation_id!r}")
            turns = conn.execute(
                select(s.turns)
                .where(s.turns.c.conversation_id == conversation_id)
                .order_by(s.turns.c.n)
            ).all()
        kept = [{k: v for k, v in t._asdict().items() if k != "conversation_id"} for t in turns]
        return Conversation(**row._asdict(), n_turns=len(kept), turns=[Turn(**t) for t in kept])

    def list(
        self, *, principal: str | None = None, everyone: bool = False, limit: int = 50
    ) -> list[Conversation]:
        """Most recent first: ``principal``'s, or with ``everyone`` all of them (their turns
        are not read: :meth:`get` them)."""
        query = select(s.conversations).order_by(s.conversations.c.updated_at.desc()).limit(limit)
        column = s.conversations.c.principal
        if not everyone:
            query = query.where(column.is_(None) if principal is None else column == principal)
        t = s.turns
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            listed = [r.conversation_id for r in rows]
            counts = select(t.c.conversation_id, func.count()).where(
                t.c.conversation_id.in_(listed)
            )
            n: dict[str, int] = {
                c: int(k) for c, k in conn.execute(counts.group_by(t.c.conversation_id))
            }
        return [Conversation(**r._asdict(), n_turns=n.get(r.conversation_id, 0)) for r in rows]

    def add_turn(
        self,
        conversation_id: str,
        *,
        question: str,
        standalone: str,
        rewrite: str,
        answer_id: str,
        answer: str,
    ) -> int:
        """Append a turn; returns its number (1 for the first). The first names an
        untitled conversation."""
        row = {
            "conversation_id": conversation_id,
            "question": question,
            "standalone": standalone,
            "rewrite": rewrite,
            "answer_id": answer_id,
            "answer": answer,
        }
        this = s.conversations.c.conversation_id == conversation_id
        for attempt in range(3):  # a turn that still collides is tried again
            now = time.time()
            try:
                with self.engine.begin() as conn:
                    # The conversation's row first: its lock (PostgreSQL's row lock, SQLite's
                    # write lock) orders turns arriving together, so each reads the last number.
                    conn.execute(update(s.conversations).where(this).values(updated_at=now))
                    last = conn.execute(
                        select(func.max(s.turns.c.n)).where(
                            s.turns.c.conversation_id == conversation_id
                        )
                    ).scalar()
                    n = int(last or 0) + 1
                    conn.execute(s.turns.insert(), {**row, "n": n, "created_at": now})
                    untitled = s.conversations.c.title == ""
                    named = update(s.conversations).where(this, untitled)
                    conn.execute(named.values(title=_title(question)))
                return n
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def delete(self, conversation_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(s.turns).where(s.turns.c.conversation_id == conversation_id))
            gone = conn.execute(
                delete(s.conversations).where(s.conversations.c.conversation_id == conversation_id)
            )
        if not gone.rowcount:
            raise NotFound(f"no conversation {conversation_id!r}")
