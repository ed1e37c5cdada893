"""Ingestion: find sources, skip unchanged ones by hash, parse, chunk, commit one by one.

Each document is its own catalog transaction, so a batch that stops half-way (an error, a
killed process) leaves every committed document whole and the rest untouched; running the
same batch again picks up where it stopped, because unchanged documents are no-ops.
"""

from __future__ import annotations

import collections
import errno
import hashlib
import os
import stat
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import to_jsonable_python

from verirag import documents
from verirag.access import PUBLIC
from verirag.store import Catalog, CurrentState, NewVersion
from verirag.workers import Failed, Job, ParsePool

SIDECAR_SUFFIX = ".verirag.toml"
MAX_NAME_BYTES = 255  # the longest file name (one path part) Linux and macOS store


class Status(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    doc_id: str
    status: Status
    source: str
    version: int | None = None
    n_chunks: int = 0
    reason: str | None = None


@dataclass(slots=True)
class IngestReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> dict[Status, int]:
        found = Counter(o.status for o in self.outcomes)
        return {status: found.get(status, 0) for status in Status}

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is Status.FAILED]

    def __getitem__(self, doc_id: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.doc_id == doc_id:
                return outcome
        raise KeyError(doc_id)


Progress = Callable[[Outcome, int, int], None]


class Sidecar(BaseModel):
    """``<file>.verirag.toml``: access groups and metadata for the file beside it."""

    model_config = ConfigDict(extra="forbid")
    access: list[str] | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """One document to ingest: a file, or text given in memory."""

    doc_id: str
    uri: str
    name: str  # the file name; its suffix picks the parser
    path: Path | None = None
    data: bytes | None = None
    title: str | None = None
    access: list[str] | None = None
    metadata: dict[str, Any] | None = None
    sidecar: bool = True  # read ``<file>.verirag.toml`` beside it (never for uploads)


@dataclass(frozen=True, slots=True)
class TextRecord:
    """A document given as text, e.g. a record of a data set; ``format`` is a file suffix."""

    doc_id: str
    text: str
    title: str | None = None
    format: str = "txt"
    access: list[str] | None = None
    metadata: dict[str, Any] | None = None


def _is_candidate(path: Path, root: Path) -> bool:
    relative = path.relative_to(root).parts
    return (
        not any(part.startswith(".") for part in relative)
        and not path.name.endswith(SIDECAR_SUFFIX)
        and documents.supported(path.name)
    )


def _not_a_file(path: Path, root: Path | None, follow_symlinks: bool) -> str | None:
    """Why ``path`` (found in folder ``root``, or given directly) is not a file to read."""
    try:
        info = path.stat()  # follows links; ELOOP for a loop
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if path.is_symlink():
            return "broken symlink"
        return "no such file or directory" if exc.errno == errno.ENOENT else f"cannot read: {exc}"
    if path.is_symlink() and root is not None and not follow_symlinks:
        target = path.resolve()
        if not target.is_relative_to(root):
            return "symlink to outside the folder (not followed; --follow-symlinks to allow)"
    if stat.S_ISFIFO(info.st_mode):
        return "a FIFO, not a regular file"
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        return "a device, not a regular file"
    if stat.S_ISSOCK(info.st_mode):
        return "a socket, not a regular file"
    if stat.S_ISDIR(info.st_mode):
        return "a directory"
    return None


def discover(
    paths: Sequence[str | Path],
    prefix: str = "",
    *,
    follow_symlinks: bool = False,
    sidecars: bool = True,
) -> tuple[list[Source], list[Outcome]]:
    """Files under ``paths``; ids are ``prefix`` + the path relative to the directory given
    (a file given directly is named by its file name). Missing or unsupported paths fail, and
    so do FIFOs, devices, symlink loops and, unless ``follow_symlinks``, file symlinks that
    lead out of the folder being ingested. A folder symlink is never descended (no loops)."""
    sources: list[Source] = []
    failures: list[Outcome] = []

    def fail(doc_id: str, where: Path | str, reason: str) -> None:
        failures.append(Outcome(doc_id, Status.FAILED, str(where), reason=reason))

    for given in paths:
        path = Path(given)
        if any(len(os.fsencode(part)) > MAX_NAME_BYTES for part in path.parts):
            fail(str(given), given, f"file name longer than {MAX_NAME_BYTES} bytes")
        elif path.is_dir():
            root = path.resolve()
            for folder, dirs, files in os.walk(root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                base = Path(folder)
                for entry in sorted(files):
                    file = base / entry
                    if not _is_candidate(file, root):
                        continue
                    doc_id = prefix + file.relative_to(root).as_posix()
                    reason = _not_a_file(file, root, follow_symlinks)
                    if reason is not None:
                        fail(doc_id, file, reason)
                        continue
                    sources.append(
                        Source(doc_id, file.as_uri(), file.name, path=file, sidecar=sidecars)
                    )
        elif path.is_file():
            file = path.absolute()  # a regular file, or a link to one: named, so followed
            if documents.supported(file.name):
                sources.append(
                    Source(
                        prefix + file.name, file.as_uri(), file.name, path=file, sidecar=sidecars
                    )
                )
            else:
                fail(
                    prefix + file.name,
                    path,
                    f"unsupported file type {file.suffix or '(no extension)'!r}",
                )
        else:
            reason = _not_a_file(path, None, follow_symlinks) or "no such file or directory"
            fail(str(given), given, reason)
    return sources, failures


def text_sources(records: Iterable[TextRecord]) -> list[Source]:
    return [
        Source(
            r.doc_id,
            f"text:{r.doc_id}",
            f"{r.doc_id}.{r.format.lstrip('.')}",
            data=r.text.encode(),
            title=r.title,
            access=r.access,
            metadata=r.metadata,
        )
        for r in records
    ]


class _Skip(Exception):
    """A source that cannot be ingested; the message is the reason."""


@dataclass(frozen=True, slots=True)
class _Pending:
    """A source whose bytes changed (or its settings did), waiting for its parse."""

    source: Source
    label: str
    status: Status
    content_hash: str
    groups: list[str]
    metadata: dict[str, Any]
    mtime: float | None
    size: int


class Ingestor:
    """Reads, checks and commits in this process; parses and chunks in :class:`ParsePool`
    workers (each file under a time and a memory cap, every core busy)."""

    def __init__(self, catalog: Catalog, pool: ParsePool, max_bytes: int = 200_000_000) -> None:
        self.catalog = catalog
        self.max_bytes = max_bytes
        self.pool = pool

    def run(
        self,
        sources: Sequence[Source],
        *,
        access: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        failures: Sequence[Outcome] = (),
        remove_missing: str | None = None,
        on_progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest ``sources``; with ``remove_missing`` (a doc-id prefix), tombstone the live
        documents under it that are not among the sources (a mirror of a folder). Outcomes
        come in the order of the sources; each document is committed once it is parsed."""
        report = IngestReport()
        state = self.catalog.current_state()
        seen = {source.doc_id for source in sources}
        removals: list[str] = []
        if remove_missing is not None:
            removals = sorted(d for d in state if d.startswith(remove_missing) and d not in seen)
        total = len(failures) + len(sources) + len(removals)

        def record(outcome: Outcome) -> None:
            report.outcomes.append(outcome)
            if on_progress is not None:
                on_progress(outcome, len(report.outcomes), total)

        for failure in failures:
            record(failure)
        # Outcomes in source order, with up to two parses per worker in flight: a queue of
        # finished outcomes and of parses still running.
        queue: collections.deque[Outcome | tuple[_Pending, Any]] = collections.deque()
        window = 2 * self.pool.workers

        def drain(keep: int) -> None:
            while queue and (
                isinstance(queue[0], Outcome)
                or sum(not isinstance(q, Outcome) for q in queue) > keep
            ):
                head = queue.popleft()
                record(head if isinstance(head, Outcome) else self._commit(*head))

        for source in sources:
            prepared = self._prepare(source, state.get(source.doc_id), access, metadata)
            if isinstance(prepared, Outcome):
                queue.append(prepared)
            else:
                job = Job(
                    source.doc_id,
                    prepared[1],
                    source.name,
                    title=source.title,
                    from_file=source.path is not None,
                )
                queue.append((prepared[0], self.pool.submit(job)))
            drain(window)
        drain(0)
        for doc_id in removals:
            removed = self.catalog.remove(doc_id)
            if removed is not None:
                record(Outcome(doc_id, Status.REMOVED, "", version=removed.version))
        return report

    def _prepare(
        self,
        source: Source,
        state: CurrentState | None,
        access: list[str] | None,
        metadata: dict[str, Any] | None,
    ) -> Outcome | tuple[_Pending, bytes]:
        """Read, hash and compare with the current version: an outcome if nothing needs
        parsing (unchanged, unreadable), else what the commit needs and the bytes to parse."""
        label = str(source.path) if source.path else source.uri
        try:
            data, mtime = self._read(source)
            sidecar = self._sidecar(source)
        except _Skip as exc:
            return Outcome(source.doc_id, Status.FAILED, label, reason=str(exc))
        content_hash = hashlib.sha256(data).hexdigest()

        # Most specific wins: sidecar, then the source's own, then the batch's; settings not
        # given at all are inherited from the current version, so a plain re-ingest never
        # widens or narrows access by accident.
        groups = _first_given(sidecar.access, source.access, access)
        if groups is None:
            groups = state.access if state else [PUBLIC]
        given = [m for m in (metadata, source.metadata, sidecar.metadata) if m is not None]
        if given:
            # JSON-safe in one place, whatever the source: a TOML or Python date becomes
            # an ISO string.
            meta = to_jsonable_python({k: v for m in given for k, v in m.items()})
        else:
            meta = state.metadata if state else {}
        groups = sorted(set(groups))

        if (
            state is not None
            and state.content_hash == content_hash
            and state.access == groups
            and state.metadata == meta
        ):
            return Outcome(source.doc_id, Status.UNCHANGED, label)
        status = Status.CHANGED if state is not None else Status.NEW
        pending = _Pending(source, label, status, content_hash, groups, meta, mtime, len(data))
        return pending, data

    def _commit(self, pending: _Pending, future: Any) -> Outcome:
        source = pending.source
        parsed = self.pool.result(future)
        if isinstance(parsed, Failed):
            return Outcome(source.doc_id, Status.FAILED, pending.label, reason=parsed.reason)
        version = self.catalog.commit(
            NewVersion(
                doc_id=source.doc_id,
                content_hash=pending.content_hash,
                text=parsed.text,
                title=parsed.title,
                format=parsed.format,
                chunks=parsed.chunks,
                access=pending.groups,
                metadata=pending.metadata,
                source_uri=source.uri,
                source_mtime=pending.mtime,
                size_bytes=pending.size,
            )
        )
        return Outcome(
            source.doc_id,
            pending.status,
            pending.label,
            version=version.version,
            n_chunks=len(parsed.chunks),
        )

    def _read(self, source: Source) -> tuple[bytes, float | None]:
        if source.data is not None:
            return source.data, None
        assert source.path is not None
        try:
            stat = source.path.stat()
            if stat.st_size > self.max_bytes:
                size, limit = stat.st_size / 1e6, self.max_bytes / 1e6
                raise _Skip(f"file too large ({size:.0f} MB; the limit is {limit:.0f} MB)")
            return source.path.read_bytes(), stat.st_mtime
        except OSError as exc:
            raise _Skip(f"cannot read: {exc.strerror or exc}") from exc

    @staticmethod
    def _sidecar(source: Source) -> Sidecar:
        if source.path is None or not source.sidecar:
            return Sidecar()
        name = source.path.name + SIDECAR_SUFFIX
        if len(os.fsencode(name)) > MAX_NAME_BYTES:
            return Sidecar()  # no file system can hold one
        path = source.path.with_name(name)
        if not path.is_file():
            return Sidecar()
        try:
            return Sidecar.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise _Skip(f"unreadable sidecar {path.name}: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise _Skip(f"invalid sidecar {path.name}: {where}: {first['msg']}") from exc


def _first_given(*options: list[str] | None) -> list[str] | None:
    return next((option for option in options if option is not None), None)


def parse_meta(pairs: Iterable[str]) -> dict[str, str]:
    """``key=value`` strings (as given on the command line) into a dict."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"metadata must be key=value, got {pair!r}")
        result[key.strip()] = value.strip()
    return result


def is_sidecar(path: str | os.PathLike[str]) -> bool:
    return str(path).endswith(SIDECAR_SUFFIX)
