"""Everything a knowledge base keeps in its database, with one owner: the catalog (source of
truth), the audit trail, API keys, evaluation runs and the vector cache."""

from __future__ import annotations

from pathlib import Path

from verirag.store.audit import AuditLog, AuditRecord, Feedback, write_jsonl
from verirag.store.catalog import (
    AsOf,
    Catalog,
    ChunkDetail,
    CurrentState,
    DocumentInfo,
    IndexRow,
    NewVersion,
    StoredChunk,
    VersionInfo,
    as_timestamp,
)
from verirag.store.conversations import Conversation, Conversations, Turn
from verirag.store.db import CatalogError, Database, WriterBusy, redact, sqlite_url
from verirag.store.jobs import JobQueue, QueuedJob
from verirag.store.keys import KeyInfo, KeyStore
from verirag.store.runs import EvalRuns, StoredRun
from verirag.store.vectors import VectorCache


class Store:
    """The repositories of one database, sharing its engine."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.catalog = Catalog(db)
        self.audit = AuditLog(db)
        self.keys = KeyStore(db)
        self.runs = EvalRuns(db)
        self.vectors = VectorCache(db)
        self.jobs = JobQueue(db)
        self.conversations = Conversations(db)

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """The store of the SQLite file at ``path``."""
        return cls(Database.sqlite(path))

    def close(self) -> None:
        self.db.close()


__all__ = [
    "AsOf",
    "AuditLog",
    "AuditRecord",
    "Catalog",
    "CatalogError",
    "ChunkDetail",
    "Conversation",
    "Conversations",
    "CurrentState",
    "Database",
    "DocumentInfo",
    "EvalRuns",
    "Feedback",
    "IndexRow",
    "JobQueue",
    "KeyInfo",
    "KeyStore",
    "NewVersion",
    "QueuedJob",
    "Store",
    "StoredChunk",
    "StoredRun",
    "Turn",
    "VectorCache",
    "VersionInfo",
    "WriterBusy",
    "as_timestamp",
    "redact",
    "sqlite_url",
    "write_jsonl",
]
