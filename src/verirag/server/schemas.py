"""What the REST API takes and gives: request bodies and response models (the OpenAPI spec
lists every one)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from verirag.config import MAX_QUERY_CHARS
from verirag.retrieval import Mode, SearchResult
from verirag.store import StoredChunk

# Where the API gives a domain record as it is, the record is its own response model (a
# search hit, ``SearchResult``; an API key, ``verirag.store.KeyInfo``; an evaluation run,
# ``verirag.store.StoredRun``); the models below are the shapes of the API's own.

# -- requests -------------------------------------------------------------------------


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(10, ge=1, le=100)
    as_of: datetime | None = Field(None, description="ISO 8601 or Unix time; naive is UTC")
    filters: dict[str, Any] | None = None
    doc_ids: list[str] | None = None
    mode: Mode = Field(Mode.HYBRID, description="hybrid | dense | bm25")


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(8, ge=1, le=100)
    as_of: datetime | None = Field(None, description="ISO 8601 or Unix time; naive is UTC")
    filters: dict[str, Any] | None = None
    llm: str | None = Field(None, description="admins only: another generator spec")
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    stream: bool = False
    conversation_id: str | None = Field(
        None, description="one of yours: the question is its next turn, kept with it"
    )
    history: list[Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]] = Field(
        default_factory=list,
        max_length=50,
        description="the conversation's earlier questions, oldest first: a follow-up is made "
        "standalone from them",
    )


class ConversationIn(BaseModel):
    title: str = Field("", max_length=200, description="named by its first question if empty")


class TurnOut(BaseModel):
    n: int
    created_at: float
    question: str
    standalone_question: str
    rewrite: str
    answer_id: str = Field(description="its audit record")
    answer: str


class ConversationSummary(BaseModel):
    conversation_id: str
    title: str
    created_at: float
    updated_at: float
    n_turns: int


class ConversationOut(ConversationSummary):
    turns: list[TurnOut]


class EvalQuestion(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    answers: list[str] = Field(default_factory=list)
    gold_docs: list[str] = Field(default_factory=list)
    unanswerable: bool = False
    metadata: dict[str, Any] | None = None


class EvalRequest(BaseModel):
    questions: list[EvalQuestion] = Field(min_length=1, max_length=1000)
    k: int = Field(8, ge=1, le=100)


class IngestRequest(BaseModel):
    paths: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="files or folders on the server's disk"
    )
    sync: bool = False
    prefix: str = ""
    access: list[str] | None = None
    metadata: dict[str, Any] | None = None
    exclude: list[str] = Field(default_factory=list, description=".gitignore-style globs")
    include_all: bool = Field(False, description="also node_modules, build, .gitignore'd files")


class FeedbackIn(BaseModel):
    helpful: bool
    comment: str = Field("", max_length=2000)


class KeyRequest(BaseModel):
    name: str = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)
    admin: bool = False


# -- responses ------------------------------------------------------------------------


class Health(BaseModel):
    status: str
    keys_required: bool


class WhoAmI(BaseModel):
    id: str
    name: str
    groups: list[str] | None = Field(description="null: an admin, who reads everything")
    admin: bool


class DocumentOut(BaseModel):
    doc_id: str
    current_version: int | None = Field(description="null: removed")
    latest_version: int
    created_at: float
    updated_at: float
    title: str | None
    format: str | None
    access: list[str]
    n_chunks: int
    source_uri: str | None = Field(description="admins only")
    metadata: dict[str, Any] = Field(description="the newest version's")


class Facets(BaseModel):
    formats: dict[str, int] = Field(description="format -> readable documents")
    access: dict[str, int] = Field(description="group -> readable documents")
    tags: dict[str, int] = Field(description="tag -> readable documents")


class VersionOut(BaseModel):
    doc_id: str
    version: int
    seq: int
    valid_to_seq: int | None
    tombstone: bool
    content_hash: str | None
    source_uri: str | None = Field(description="admins only")
    source_mtime: float | None
    size_bytes: int | None
    ingested_at: float
    title: str | None
    format: str | None
    access: list[str]
    metadata: dict[str, Any]
    n_chunks: int
    current: bool


class DocumentDetail(DocumentOut):
    versions: list[VersionOut]


class VersionText(VersionOut):
    text: str | None
    chunks: list[StoredChunk]  # the record as the catalog keeps it


class DiffOut(BaseModel):
    doc_id: str
    old: int
    new: int
    diff: list[str] = Field(description="unified diff lines")


class OutcomeOut(BaseModel):
    doc_id: str
    status: str = Field(description="new | changed | unchanged | removed | skipped | failed")
    version: int | None
    chunks: int
    reason: str | None


class IngestOut(BaseModel):
    outcomes: list[OutcomeOut]
    counts: dict[str, int]


class JobOut(BaseModel):
    """A background job (ingest, upload, reindex, watch) and how far it has come."""

    job_id: str
    kind: str
    description: str
    state: str = Field(description="queued | running | done | failed | cancelled")
    created_at: float
    started_at: float | None
    finished_at: float | None
    files_done: int
    files_total: int | None
    chunks_done: int
    chunks_total: int | None
    files_per_s: float | None
    eta_s: float | None = Field(description="seconds left, at the rate so far")
    error: str | None
    report: IngestOut | None = Field(description="each document's outcome, once done")
    seq: int = Field(description="bumped on every change")


class CheckOut(BaseModel):
    problems: list[str]
    counts: dict[str, int]


class SearchOut(BaseModel):
    query: str
    results: list[SearchResult]


class Edit(BaseModel):
    was: str
    now: str


class SourceOut(BaseModel):
    n: int
    doc_id: str
    version: int
    title: str | None
    section: list[str]
    pages: list[int | None]
    lines: list[int | None] = Field(description="first and last line, where the format has lines")
    char_start: int
    char_end: int
    chunk_ids: list[str]
    ingested_at: float
    edits: list[Edit]
    label: str


class Place(BaseModel):
    n: int = Field(description="the source it cites")
    pages: list[int | None]
    lines: list[int | None]
    label: str = Field(description="the citation at the sentence: section, lines or page")


class ClaimOut(BaseModel):
    text: str
    cited: list[int]
    supported: bool
    reason: str
    where: list[Place] = Field(description="where each cited source says it")


class AnswerOut(BaseModel):
    answer_id: str
    question: str
    answer: str
    abstained: bool
    reason: str
    claims: list[ClaimOut]
    sources: list[SourceOut] = Field(description="the sources the claims cite")
    data: Any = Field(description="the JSON value, for structured output")
    fields: dict[str, list[int]] = Field(description="JSON path -> sources it cites")
    model: str
    tokens_in: int
    tokens_out: int
    cost: float
    timings: dict[str, float] = Field(description="stage -> seconds")
    standalone_question: str = Field(description="what was searched and answered")
    rewrite: str = Field(description="as asked, carried terms, or the model that rewrote it")
    conversation_id: str | None = Field(None, description="the conversation it was a turn of")


class EvalRunOut(BaseModel):
    run_id: str
    created_at: float
    kind: str
    principal: str | None
    settings: dict[str, Any]
    summary: dict[str, Any]


class FeedbackOut(BaseModel):
    principal: str
    created_at: float
    helpful: bool
    comment: str


class AuditOut(BaseModel):
    """An answer's trace: the record's columns, then the trace's fields (filters, retrieved
    chunks, sources, claims, prompt and its hash, per-stage timings), and its feedback."""

    model_config = ConfigDict(extra="allow")
    answer_id: str
    created_at: float
    question: str
    principal: str | None
    abstained: bool
    model: str
    tokens_in: int
    tokens_out: int
    cost: float
    feedback: list[FeedbackOut] = Field(description="each principal's latest word on it")


class KeyCreated(BaseModel):
    key: str = Field(description="shown once; only its hash is stored")
    name: str
