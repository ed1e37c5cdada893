"""Catalog tables (SQLAlchemy Core, so SQLite and PostgreSQL share one schema).

Every change to the catalog is a row in ``commits``; its ``seq`` orders all changes, and each
version is valid from the commit that created it until the one that superseded it
(``valid_to_seq`` NULL while current). That gives history and as-of reads without copies.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

# 2: a chunk's text is no longer copied into ``chunks`` (it is its span of the version's text);
# versions are indexed by when they were closed and commits by when they were made.
SCHEMA_VERSION = 2

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
)

commits = Table(
    "commits",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),  # unix time
    Column("doc_id", String, nullable=False),
    Column("action", String(16), nullable=False),  # new | changed | removed
    Index("ix_commits_at", "at"),  # as-of queries and the history horizon: the commit at a time
)

documents = Table(
    "documents",
    metadata,
    Column("doc_id", String, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("current_version", Integer, nullable=True),  # NULL once removed (tombstoned)
    Column("latest_version", Integer, nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("doc_id", String, ForeignKey("documents.doc_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("seq", Integer, ForeignKey("commits.seq"), nullable=False, unique=True),
    Column("valid_to_seq", Integer, nullable=True),
    Column("tombstone", Boolean, nullable=False, default=False),
    Column("content_hash", String(64), nullable=True),
    Column("source_uri", String, nullable=True),
    Column("source_mtime", Float, nullable=True),
    Column("size_bytes", Integer, nullable=True),
    Column("ingested_at", Float, nullable=False),
    Column("title", Text, nullable=True),
    Column("format", String(16), nullable=True),
    Column("access", JSON, nullable=False),
    Column("doc_metadata", JSON, nullable=False),
    Column("text", Text, nullable=True),
    Column("n_chunks", Integer, nullable=False),
    # Each index sync: the versions closed since the index's watermark, not every older one
    # (25.8 ms a sync at 100k chunks, scanning versions by seq; 0.59 ms by this,
    # benchmarks/scale_ab.py).
    Index("ix_versions_valid_to", "valid_to_seq"),
)

chunks = Table(
    "chunks",
    metadata,
    Column("chunk_id", String(32), primary_key=True),
    Column("doc_id", String, ForeignKey("documents.doc_id"), nullable=False),
    Column("n_tokens", Integer, nullable=False),
)

version_chunks = Table(
    "version_chunks",
    metadata,
    Column("doc_id", String, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("ordinal", Integer, primary_key=True),
    Column("chunk_id", String(32), ForeignKey("chunks.chunk_id"), nullable=False),
    Column("char_start", Integer, nullable=False),
    Column("char_end", Integer, nullable=False),
    Column("section", JSON, nullable=False),
    Column("context", Text, nullable=False),
    Column("page_start", Integer, nullable=True),
    Column("page_end", Integer, nullable=True),
    Column("line_start", Integer, nullable=True),
    Column("line_end", Integer, nullable=True),
    ForeignKeyConstraint(["doc_id", "version"], ["versions.doc_id", "versions.version"]),
    Index("ix_version_chunks_chunk", "chunk_id"),
)

# Derived, but worth keeping: embedding is the slow step of ingest.
embedding_cache = Table(
    "embedding_cache",
    metadata,
    Column("model", String, primary_key=True),
    Column("key", String(32), primary_key=True),  # sha256 of the embedded text
    Column("vector", LargeBinary, nullable=False),
)

# The audit trail: one row per answer, written once, never updated.
answers = Table(
    "answers",
    metadata,
    Column("answer_id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("question", Text, nullable=False),
    Column("principal", String, nullable=True),
    Column("abstained", Boolean, nullable=False),
    Column("model", String, nullable=False),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("cost", Float, nullable=False),
    Column("trace", JSON, nullable=False),  # filters, retrieved chunks, prompt, answer, timings
    Index("ix_answers_created", "created_at"),
)
# Feedback on an answer (helpful or not, and why): one row per answer and principal, the
# latest word replacing the earlier; the answer's own row stays as it was written.
feedback = Table(
    "feedback",
    metadata,
    Column("answer_id", String(32), ForeignKey("answers.answer_id"), primary_key=True),
    Column("principal", String, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("helpful", Boolean, nullable=False),
    Column("comment", Text, nullable=False),
)
# API keys of the HTTP server: only a hash of each key is stored.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("name", String, nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("groups", JSON, nullable=False),
    Column("admin", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)
# Evaluation runs (`verirag eval qa`, `POST /api/eval/qa`): summary and per-question outcomes.
eval_runs = Table(
    "eval_runs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("kind", String, nullable=False),
    Column("principal", String, nullable=True),
    Column("settings", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("questions", JSON, nullable=False),
    Index("ix_eval_runs_created", "created_at"),
)
# Ingestion jobs for `verirag worker` processes (any number, on any machine): a worker claims
# one (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and keeps its lease with heartbeats; a job
# whose worker stopped beating is claimed again.
jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done | failed | cancelled
    Column("options", JSON, nullable=False),  # access, metadata
    Column("attempts", Integer, nullable=False, default=0),
    Column("worker", String, nullable=True),
    Column("heartbeat_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    Column("progress", JSON, nullable=True),
    Column("result", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_jobs_state", "state", "created_at"),
)
# What a job ingests: each file's name and bytes, kept until the job is done.
job_files = Table(
    "job_files",
    metadata,
    Column("job_id", String(32), ForeignKey("jobs.job_id"), primary_key=True),
    Column("name", String, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
# Conversations (threads of questions) and their turns: each belongs to the principal that
# started it; a follow-up is made standalone from the turns before it.
conversations = Table(
    "conversations",
    metadata,
    Column("conversation_id", String(32), primary_key=True),
    Column("principal", String, nullable=True),
    Column("title", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_conversations_principal", "principal", "updated_at"),
)
turns = Table(
    "turns",
    metadata,
    Column(
        "conversation_id",
        String(32),
        ForeignKey("conversations.conversation_id"),
        primary_key=True,
    ),
    Column("n", Integer, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("question", Text, nullable=False),
    Column("standalone", Text, nullable=False),  # what was searched and answered
    Column("rewrite", String, nullable=False),  # as asked | carried terms | the model's id
    Column("answer_id", String(32), nullable=False),  # its audit record
    Column("answer", Text, nullable=False),
)
