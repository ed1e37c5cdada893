"""The catalog: documents, immutable versions, chunks and membership; the source of truth."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import RowMapping

from verirag.access import may_read, not_found
from verirag.chunking import Chunk, chunk_id
from verirag.errors import InvalidInput
from verirag.store import schema as s
from verirag.store.db import Database, insert_ignore

AsOf = datetime | float | str  # a datetime, unix time, or ISO-8601 (naive means UTC)


def as_timestamp(value: AsOf) -> float:
    """Unix time from a datetime, a number, or an ISO-8601 string (naive means UTC)."""
    if isinstance(value, int | float):
        return float(value)
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        raise InvalidInput(
            f"as-of time {value!r} is not ISO 8601 (2026-01-31 or 2026-01-31T09:30:00)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


@dataclass(frozen=True, slots=True)
class VersionInfo:
    doc_id: str
    version: int
    seq: int
    valid_to_seq: int | None
    tombstone: bool
    content_hash: str | None
    source_uri: str | None
    source_mtime: float | None
    size_bytes: int | None
    ingested_at: float
    title: str | None
    format: str | None
    access: list[str]
    metadata: dict[str, Any]
    n_chunks: int
    text: str | None = None  # loaded only when asked for

    @property
    def current(self) -> bool:
        return self.valid_to_seq is None and not self.tombstone


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    doc_id: str
    current_version: int | None  # None: removed (its last version is a tombstone)
    latest_version: int
    created_at: float
    updated_at: float
    title: str | None
    format: str | None
    access: list[str]
    n_chunks: int
    source_uri: str | None
    metadata: dict[str, Any] = field(default_factory=dict)  # the newest version's


@dataclass(frozen=True, slots=True)
class StoredChunk:
    chunk_id: str
    doc_id: str
    version: int
    ordinal: int
    text: str
    n_tokens: int
    char_start: int
    char_end: int
    section: tuple[str, ...]
    context: str
    page_start: int | None
    page_end: int | None
    line_start: int | None
    line_end: int | None


@dataclass(frozen=True, slots=True)
class IndexRow:
    """A chunk of a version, with what the index needs to know about the version."""

    doc_id: str
    version: int
    seq: int
    valid_to_seq: int | None
    access: list[str]
    metadata: dict[str, Any]
    ordinal: int
    chunk_id: str
    context: str
    text: str
    doc_access: list[str]  # the document's current access (see verirag.access)


@dataclass(frozen=True, slots=True)
class ChunkDetail:
    chunk: StoredChunk
    title: str | None
    ingested_at: float
    source_uri: str | None


@dataclass(frozen=True, slots=True)
class CurrentState:
    """What the no-op check compares against: the current version's hash and settings."""

    content_hash: str | None
    access: list[str]
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewVersion:
    doc_id: str
    content_hash: str
    text: str
    title: str
    format: str
    chunks: Sequence[Chunk]
    access: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    source_uri: str | None = None
    source_mtime: float | None = None
    size_bytes: int | None = None


_VERSION_COLUMNS = [c for c in s.versions.c if c.name != "text"]
# A chunk's text is the slice of its version's text (SQL counts characters from 1), stored
# once: a copy per chunk doubled the catalog's text (docs/scale.md).
_CHUNK_TEXT = func.substr(
    s.versions.c.text,
    s.version_chunks.c.char_start + 1,
    s.version_chunks.c.char_end - s.version_chunks.c.char_start,
).label("text")
_OF_VERSION = (s.versions.c.doc_id == s.version_chunks.c.doc_id) & (
    s.versions.c.version == s.version_chunks.c.version
)

# Statements with bound parameters compile once and are reused from SQLAlchemy's cache;
# ``.values(**literals)`` would build a new cache key per document.
_GET_DOCUMENT = select(s.documents).where(s.documents.c.doc_id == bindparam("b_doc"))
_NEW_COMMIT = s.commits.insert().returning(s.commits.c.seq)
_NEXT_SEQ = select(func.coalesce(func.max(s.commits.c.seq), 0) + 1)
_CLOSE_OPEN_VERSION = (
    update(s.versions)
    .where(s.versions.c.doc_id == bindparam("b_doc"), s.versions.c.valid_to_seq.is_(None))
    .values(valid_to_seq=bindparam("b_seq"))
)
_POINT_DOCUMENT = (
    update(s.documents)
    .where(s.documents.c.doc_id == bindparam("b_doc"))
    .values(
        updated_at=bindparam("b_at"),
        current_version=bindparam("b_current"),
        latest_version=bindparam("b_latest"),
    )
)


@functools.lru_cache(maxsize=100)
def _details_query(n: int) -> Any:
    """The chunk details of ``n`` keys, bound as ``d0, n0, o0, ...``: exactly the wanted rows,
    by version_chunks' primary key, never every chunk of a long document's every version. One
    equality per key, OR-ed: SQLite scans the whole table for a row-value IN (94 ms a search
    at 300k chunks, benchmarks/scale.py) and seeks the primary key for this. Built once per
    ``n``: built per call, the lookup took 4.06 ms instead of 1.52 (benchmarks/scale_ab.py)."""
    v, vc, c = s.versions, s.version_chunks, s.chunks
    wanted = (
        and_(
            vc.c.doc_id == bindparam(f"d{i}"),
            vc.c.version == bindparam(f"n{i}"),
            vc.c.ordinal == bindparam(f"o{i}"),
        )
        for i in range(n)
    )
    return (
        select(vc, _CHUNK_TEXT, c.c.n_tokens, v.c.title, v.c.ingested_at, v.c.source_uri)
        .join(c, c.c.chunk_id == vc.c.chunk_id)
        .join(v, _OF_VERSION)
        .where(or_(*wanted))
    )


def _version(m: RowMapping | dict[str, Any], text: str | None = None) -> VersionInfo:
    return VersionInfo(
        doc_id=m["doc_id"],
        version=m["version"],
        seq=m["seq"],
        valid_to_seq=m["valid_to_seq"],
        tombstone=bool(m["tombstone"]),
        content_hash=m["content_hash"],
        source_uri=m["source_uri"],
        source_mtime=m["source_mtime"],
        size_bytes=m["size_bytes"],
        ingested_at=m["ingested_at"],
        title=m["title"],
        format=m["format"],
        access=list(m["access"]),
        metadata=dict(m["doc_metadata"]),
        n_chunks=m["n_chunks"],
        text=text,
    )


def _stored_chunk(r: Any) -> StoredChunk:
    """A chunk from a ``version_chunks`` row with its text and token count."""
    return StoredChunk(
        r.chunk_id,
        r.doc_id,
        r.version,
        r.ordinal,
        r.text,
        r.n_tokens,
        r.char_start,
        r.char_end,
        tuple(r.section),
        r.context,
        r.page_start,
        r.page_end,
        r.line_start,
        r.line_end,
    )


class Catalog:
    """Documents and their versions in SQL. One document's change is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine: Engine = db.engine

    @classmethod
    def open(cls, path: str | Path) -> Catalog:
        """The catalog of the SQLite file at ``path``."""
        return cls(Database.sqlite(path))

    def close(self) -> None:
        self.db.close()

    # -- writes -------------------------------------------------------------------------

    def commit(self, new: NewVersion) -> VersionInfo:
        """Store a new version of a document and make it current, atomically."""
        with self.engine.begin() as conn:
            self.db.serialise_commits(conn)
            # Timed once it is this commit's turn: commit times rise with commit numbers, as
            # as-of queries (the last commit made by a time) need.
            now = self.db.clock(conn)
            doc = conn.execute(_GET_DOCUMENT, {"b_doc": new.doc_id}).first()
            action = "changed" if doc is not None and doc.current_version is not None else "new"
            version = 1 if doc is None else doc.latest_version + 1
            seq = self._advance(
                conn, new.doc_id, action, now, version, version, created=doc is None
            )
            row = {
                "doc_id": new.doc_id,
                "version": version,
                "seq": seq,
                "valid_to_seq": None,
                "tombstone": False,
                "content_hash": new.content_hash,
                "source_uri": new.source_uri,
                "source_mtime": new.source_mtime,
                "size_bytes": new.size_bytes,
                "ingested_at": now,
                "title": new.title,
                "format": new.format,
                "access": list(new.access),
                "doc_metadata": dict(new.metadata),
                "n_chunks": len(new.chunks),
            }
            conn.execute(s.versions.insert(), {**row, "text": new.text})
            insert_ignore(
                conn,
                s.chunks,
                [
                    {"chunk_id": c.id, "doc_id": new.doc_id, "n_tokens": c.n_tokens}
                    for c in new.chunks
                ],
            )
            if new.chunks:
                conn.execute(
                    s.version_chunks.insert(),
                    [
                        {
                            "doc_id": new.doc_id,
                            "version": version,
                            "ordinal": c.ordinal,
                            "chunk_id": c.id,
                            "char_start": c.start,
                            "char_end": c.end,
                            "section": list(c.section),
                            "context": c.context,
                            "page_start": c.page_start,
                            "page_end": c.page_end,
                            "line_start": c.line_start,
                            "line_end": c.line_end,
                        }
                        for c in new.chunks
                    ],
                )
        return _version(row)

    def remove(self, doc_id: str, source_uri: str | None = None) -> VersionInfo | None:
        """Tombstone a document: it leaves the live set; its history stays. None if not live."""
        with self.engine.begin() as conn:
            self.db.serialise_commits(conn)
            now = self.db.clock(conn)  # once it is this commit's turn (see commit)
            doc = conn.execute(_GET_DOCUMENT, {"b_doc": doc_id}).first()
            if doc is None or doc.current_version is None:
                return None
            previous = conn.execute(
                select(s.versions.c.access, s.versions.c.doc_metadata).where(
                    s.versions.c.doc_id == doc_id, s.versions.c.version == doc.current_version
                )
            ).one()
            version = doc.latest_version + 1
            seq = self._advance(conn, doc_id, "removed", now, None, version, created=False)
            row = {
                "doc_id": doc_id,
                "version": version,
                "seq": seq,
                "valid_to_seq": None,
                "tombstone": True,
                "content_hash": None,
                "source_uri": source_uri,
                "source_mtime": None,
                "size_bytes": None,
                "ingested_at": now,
                "title": None,
                "format": None,
                "access": list(previous.access),
                "doc_metadata": dict(previous.doc_metadata),
                "n_chunks": 0,
            }
            conn.execute(s.versions.insert(), {**row, "text": None})
        return _version(row)

    def _advance(
        self,
        conn: Connection,
        doc_id: str,
        action: str,
        at: float,
        current: int | None,
        latest: int,
        *,
        created: bool,
    ) -> int:
        """Record a commit, close the open version, point the document at the new one. The
        commit's number is the last one's plus one: commits are serialised (SQLite's one
        writer, PostgreSQL's commit lock), so numbers are gap-free in commit order, where a
        database sequence leaves a gap for every rolled-back transaction."""
        commit = {"at": at, "doc_id": doc_id, "action": action}
        if self.db.postgres:
            commit["seq"] = conn.execute(_NEXT_SEQ).scalar_one()
        seq = int(conn.execute(_NEW_COMMIT, commit).scalar_one())
        if created:
            conn.execute(
                s.documents.insert(),
                {
                    "doc_id": doc_id,
                    "created_at": at,
                    "updated_at": at,
                    "current_version": current,
                    "latest_version": latest,
                },
            )
        else:
            conn.execute(_CLOSE_OPEN_VERSION, {"b_doc": doc_id, "b_seq": seq})
            conn.execute(
                _POINT_DOCUMENT,
                {
                    "b_doc": doc_id,
                    "b_at": at,
                    "b_current": current,
                    "b_latest": latest,
                },
            )
        return seq

    # -- reads --------------------------------------------------------------------------

    def current_state(self, doc_ids: Iterable[str] | None = None) -> dict[str, CurrentState]:
        """Hash and settings of each live document's current version (of ``doc_ids``, looked
        up by key: a batch of a few files never reads every document's state)."""
        query = select(
            s.versions.c.doc_id,
            s.versions.c.content_hash,
            s.versions.c.access,
            s.versions.c.doc_metadata,
        ).where(s.versions.c.valid_to_seq.is_(None), s.versions.c.tombstone.is_(False))
        if doc_ids is None:
            batches = [query]
        else:
            wanted = sorted(set(doc_ids))
            batches = [
                query.where(s.versions.c.doc_id.in_(wanted[start : start + 500]))
                for start in range(0, len(wanted), 500)
            ]
        with self.engine.connect() as conn:
            rows = [row for batch in batches for row in conn.execute(batch)]
        return {
            r.doc_id: CurrentState(r.content_hash, list(r.access), dict(r.doc_metadata))
            for r in rows
        }

    def documents(
        self,
        *,
        include_removed: bool = False,
        groups: Sequence[str] | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> list[DocumentInfo]:
        """Every document (or those of ``doc_ids``) with its newest version's title, format
        and access (a removed document's last access: its current state); only those
        ``groups`` may read."""
        v, d = s.versions, s.documents
        query = (
            select(
                d,
                v.c.title,
                v.c.format,
                v.c.access,
                v.c.n_chunks,
                v.c.source_uri,
                v.c.doc_metadata,
            )
            .join(v, (v.c.doc_id == d.c.doc_id) & (v.c.version == d.c.latest_version))
            .order_by(d.c.doc_id)
        )
        if not include_removed:
            query = query.where(d.c.current_version.is_not(None))
        if doc_ids is not None:
            query = query.where(d.c.doc_id.in_(doc_ids))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            DocumentInfo(
                r.doc_id,
                r.current_version,
                r.latest_version,
                r.created_at,
                r.updated_at,
                r.title,
                r.format,
                list(r.access),
                r.n_chunks,
                r.source_uri,
                dict(r.doc_metadata),
            )
            for r in rows
            if may_read(groups, r.access)
        ]

    def doc_access(self, doc_id: str) -> list[str] | None:
        """The access of a document's current state (its latest version: a tombstone keeps
        the last live version's); ``None`` for a document that never existed."""
        v, d = s.versions, s.documents
        query = (
            select(v.c.access)
            .join(d, (v.c.doc_id == d.c.doc_id) & (v.c.version == d.c.latest_version))
            .where(d.c.doc_id == doc_id)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar_one_or_none()
        return None if found is None else list(found)

    def _readable_doc(self, doc_id: str, groups: Sequence[str] | None) -> list[str]:
        access = self.doc_access(doc_id)
        if access is None or not may_read(groups, access):
            raise not_found(doc_id)
        return access

    def _readable_version(self, doc_id: str, version: int, groups: Sequence[str] | None) -> None:
        """:meth:`version`'s check without reading the version's text."""
        self._readable_doc(doc_id, groups)
        v = s.versions
        query = select(v.c.access).where(v.c.doc_id == doc_id, v.c.version == version)
        with self.engine.connect() as conn:
            access = conn.execute(query).scalar_one_or_none()
        if access is None or not may_read(groups, access):
            raise not_found(doc_id, version)

    def history(self, doc_id: str, *, groups: Sequence[str] | None = None) -> list[VersionInfo]:
        """The versions of ``doc_id`` that ``groups`` may read, oldest first."""
        self._readable_doc(doc_id, groups)
        query = select(*_VERSION_COLUMNS).where(s.versions.c.doc_id == doc_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(s.versions.c.version)).all()
        return [_version(r._mapping) for r in rows if may_read(groups, r.access)]

    def version(
        self, doc_id: str, version: int | None = None, *, groups: Sequence[str] | None = None
    ) -> VersionInfo:
        """One version with its text; the current one by default (the last, if removed).
        Missing and forbidden both raise the same ``KeyError``."""
        self._readable_doc(doc_id, groups)
        query = select(*_VERSION_COLUMNS, s.versions.c.text).where(s.versions.c.doc_id == doc_id)
        if version is None:
            query = query.order_by(s.versions.c.tombstone, s.versions.c.version.desc()).limit(1)
        else:
            query = query.where(s.versions.c.version == version)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or not may_read(groups, row.access):
            raise not_found(doc_id, version)
        return _version(row._mapping, row.text)

    def previous(self, doc_id: str, version: int) -> VersionInfo | None:
        """The content version (with its text) that ``version`` of ``doc_id`` replaced
        (unfiltered: its ``access`` says who may be shown it)."""
        v = s.versions
        query = (
            select(*_VERSION_COLUMNS, v.c.text)
            .where(v.c.doc_id == doc_id, v.c.version < version, v.c.tombstone.is_(False))
            .order_by(v.c.version.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _version(row._mapping, row.text)

    def chunks(
        self, doc_id: str, version: int | None = None, *, groups: Sequence[str] | None = None
    ) -> list[StoredChunk]:
        """A version's chunks in order; the current version's by default."""
        if version is None:
            version = self.version(doc_id, groups=groups).version
        elif groups is not None:
            self._readable_version(doc_id, version, groups)
        vc, c = s.version_chunks, s.chunks
        query = (
            select(vc, _CHUNK_TEXT, c.c.n_tokens)
            .join(c, c.c.chunk_id == vc.c.chunk_id)
            .join(s.versions, _OF_VERSION)
            .where(vc.c.doc_id == doc_id, vc.c.version == version)
            .order_by(vc.c.ordinal)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_stored_chunk(r) for r in rows]

    def access_since(self, seq: int) -> dict[str, tuple[list[str], list[str] | None]]:
        """For each document committed after ``seq``: its current access and its access at
        ``seq`` (``None`` if it did not exist then), so the index can re-label the points
        of older versions when a document's access changed."""
        v, d, c = s.versions, s.documents, s.commits
        touched = select(c.c.doc_id).where(c.c.seq > seq).distinct()
        now_query = (
            select(d.c.doc_id, v.c.access)
            .join(v, (v.c.doc_id == d.c.doc_id) & (v.c.version == d.c.latest_version))
            .where(d.c.doc_id.in_(touched))
        )
        then_query = (
            select(v.c.doc_id, v.c.version, v.c.access)
            .where(v.c.seq <= seq, v.c.doc_id.in_(touched))
            .order_by(v.c.doc_id, v.c.version)
        )
        with self.engine.connect() as conn:
            now = {r.doc_id: list(r.access) for r in conn.execute(now_query)}
            then = {r.doc_id: list(r.access) for r in conn.execute(then_query)}  # last wins
        return {doc_id: (access, then.get(doc_id)) for doc_id, access in now.items()}

    def index_rows_since(
        self, seq: int, doc_access: Mapping[str, list[str]] | None = None
    ) -> Iterator[IndexRow]:
        """Chunks of the content versions committed after ``seq``, for the index to add;
        ``doc_access``: each touched document's current access, if the caller has it already
        (from :meth:`access_since`)."""
        if doc_access is None:
            doc_access = {doc_id: now for doc_id, (now, _) in self.access_since(seq).items()}
        v, vc = s.versions, s.version_chunks
        query = (
            select(
                v.c.doc_id,
                v.c.version,
                v.c.seq,
                v.c.valid_to_seq,
                v.c.access,
                v.c.doc_metadata,
                vc.c.ordinal,
                vc.c.chunk_id,
                vc.c.context,
                _CHUNK_TEXT,
            )
            .join(vc, _OF_VERSION)
            .where(v.c.seq > seq, v.c.tombstone.is_(False))
            .order_by(v.c.seq, vc.c.ordinal)
        )
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                yield IndexRow(
                    r.doc_id,
                    r.version,
                    r.seq,
                    r.valid_to_seq,
                    list(r.access),
                    dict(r.doc_metadata),
                    r.ordinal,
                    r.chunk_id,
                    r.context,
                    r.text,
                    doc_access.get(r.doc_id, list(r.access)),
                )

    def count_index_rows_since(self, seq: int) -> int:
        v = s.versions
        query = select(func.coalesce(func.sum(v.c.n_chunks), 0)).where(v.c.seq > seq)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def closed_since(self, seq: int) -> list[tuple[str, int, int]]:
        """(doc, version, valid_to) of versions that were open at ``seq`` and closed after it."""
        v = s.versions
        query = select(v.c.doc_id, v.c.version, v.c.valid_to_seq).where(
            v.c.seq <= seq, v.c.valid_to_seq > seq, v.c.tombstone.is_(False)
        )
        with self.engine.connect() as conn:
            return [(r.doc_id, r.version, r.valid_to_seq) for r in conn.execute(query)]

    def seq_at(self, when: float) -> int:
        """The last commit made at or before unix time ``when`` (0 if none)."""
        query = select(func.coalesce(func.max(s.commits.c.seq), 0)).where(s.commits.c.at <= when)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def chunk_details(
        self, keys: Sequence[tuple[str, int, int]]
    ) -> dict[tuple[str, int, int], ChunkDetail]:
        """Text, location and document title for (doc, version, ordinal) keys, in one query."""
        if not keys:
            return {}
        wanted = sorted(set(keys))
        found: dict[tuple[str, int, int], ChunkDetail] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 100):
                some = wanted[start : start + 100]
                query = _details_query(len(some))
                params = {
                    f"{name}{i}": value
                    for i, key in enumerate(some)
                    for name, value in zip("dno", key, strict=True)
                }
                for r in conn.execute(query, params):
                    found[(r.doc_id, r.version, r.ordinal)] = ChunkDetail(
                        _stored_chunk(r), r.title, r.ingested_at, r.source_uri
                    )
        return found

    def commit_time(self, seq: int) -> float:
        """When commit ``seq`` was made (unix time; 0 if there is none)."""
        query = select(s.commits.c.at).where(s.commits.c.seq == seq)
        with self.engine.connect() as conn:
            return float(conn.execute(query).scalar_one_or_none() or 0.0)

    def last_seq(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.coalesce(func.max(s.commits.c.seq), 0))).scalar_one()
            )

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:

            def n(table: Any, *where: Any) -> int:
                return int(
                    conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
                )

            return {
                "documents": n(s.documents, s.documents.c.current_version.is_not(None)),
                "removed": n(s.documents, s.documents.c.current_version.is_(None)),
                "versions": n(s.versions),
                "chunks": n(s.chunks),
            }

    def check(self) -> list[str]:
        """Integrity problems (empty when the catalog is whole): every version has all its
        chunks, every chunk's span of its version's text has that chunk's identity, one current
        version. A chunk's identity is its normalised text (whitespace folded), so the same
        passage at two places of a document, spaced differently, is one chunk by design."""
        problems: list[str] = []
        with self.engine.connect() as conn:
            docs = {r.doc_id: r for r in conn.execute(select(s.documents))}
            open_versions: dict[str, list[int]] = {}
            for v in conn.execute(select(s.versions)):
                if v.doc_id not in docs:
                    problems.append(f"{v.doc_id}@{v.version}: version without a document")
                if v.valid_to_seq is None:
                    open_versions.setdefault(v.doc_id, []).append(v.version)
                if v.tombstone:
                    continue
                members = conn.execute(
                    select(
                        s.version_chunks.c.char_start,
                        s.version_chunks.c.char_end,
                        s.version_chunks.c.chunk_id,
                        s.chunks.c.chunk_id.label("stored"),
                    )
                    .join(
                        s.chunks, s.chunks.c.chunk_id == s.version_chunks.c.chunk_id, isouter=True
                    )
                    .where(
                        s.version_chunks.c.doc_id == v.doc_id,
                        s.version_chunks.c.version == v.version,
                    )
                ).all()
                if len(members) != v.n_chunks:
                    problems.append(
                        f"{v.doc_id}@{v.version}: {len(members)} of {v.n_chunks} chunks"
                    )
                text = v.text or ""
                for m in members:
                    if m.stored is None:
                        problems.append(f"{v.doc_id}@{v.version}: chunk {m.chunk_id} is missing")
                        break
                    if not 0 <= m.char_start <= m.char_end <= len(text) or m.chunk_id != chunk_id(
                        v.doc_id, text[m.char_start : m.char_end]
                    ):
                        problems.append(
                            f"{v.doc_id}@{v.version}: chunk text does not match its span"
                        )
                        break
            for doc_id, doc in docs.items():
                current = open_versions.get(doc_id, [])
                if len(current) != 1:
                    problems.append(f"{doc_id}: {len(current)} open versions")
                elif current[0] != doc.latest_version:
                    problems.append(f"{doc_id}: open version is not the latest")
                if doc.current_version not in (None, doc.latest_version):
                    problems.append(f"{doc_id}: current version is not the latest")
        return problems
