"""Ingestion: skip unchanged sources by hash, parse, chunk, commit one by one.

Each document is its own catalog transaction, so a batch that stops half-way (an error, a
killed process) leaves every committed document whole and the rest untouched; running the
same batch again picks up where it stopped, because unchanged documents are no-ops.
"""

from __future__ import annotations

import collections
import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

from pydantic_core import to_jsonable_python

from verirag.access import PUBLIC
from verirag.config import Config
from verirag.errors import InvalidInput
from verirag.ingest.report import IngestReport, Outcome, Progress, Status
from verirag.ingest.sources import (
    IngestSource,
    Selection,
    SourceError,
    TextRecord,
    TooLarge,
    discover,
    read_sidecar,
    text_sources,
)
from verirag.ingest.watch import changes
from verirag.ingest.workers import ChunkerSpec, Failed, Job, ParsePool
from verirag.store import Catalog, CurrentState, NewVersion


@dataclass(frozen=True, slots=True)
class _Pending:
    """A source whose bytes changed (or its settings did), waiting for its parse."""

    source: IngestSource
    label: str
    status: Status
    content_hash: str
    groups: list[str]
    metadata: dict[str, Any]
    mtime: float | None
    size: int


class Batch(TypedDict, total=False):
    """How a batch is ingested: ``access`` and ``metadata`` not given keep each document's
    current ones (a plain re-ingest never widens or narrows access by accident);
    ``on_progress`` hears of each document's outcome."""

    access: Sequence[str] | None
    metadata: dict[str, Any] | None
    on_progress: Progress | None


class Files(Batch, Selection, total=False):
    """A batch of files. Each document's id is ``prefix`` + its path relative to the folder
    given (or its file name). Symlinks out of a folder are reported, not followed, unless
    ``follow_symlinks``; ``sidecars=False`` ignores ``<file>.verirag.toml`` files (uploads);
    which files of a folder are skipped: :class:`verirag.ingest.Selection`."""

    prefix: str
    follow_symlinks: bool
    sidecars: bool


class Ingestor:
    """Reads, checks and commits in this process; parses and chunks in :class:`ParsePool`
    workers (each file under a time and a memory cap, every core busy)."""

    def __init__(self, catalog: Catalog, pool: ParsePool, max_bytes: int = 200_000_000) -> None:
        self.catalog = catalog
        self.max_bytes = max_bytes
        self.pool = pool

    @classmethod
    def from_config(cls, catalog: Catalog, config: Config) -> Ingestor:
        """An ingestor with the chunking, limits and worker pool ``config`` sets."""
        c = config
        pool = ParsePool(
            ChunkerSpec(c.tokenizer, c.chunking, c.chunk_tokens, c.chunk_overlap),
            workers=c.parse_workers,
            timeout_s=c.parse_timeout_s,
            memory_mb=c.parse_memory_mb,
        )
        return cls(catalog, pool, max_bytes=c.max_file_mb * 1_000_000)

    def close(self) -> None:
        self.pool.close()

    def files(
        self,
        paths: Sequence[str | Path],
        *,
        sync: bool = False,
        prefix: str = "",
        follow_symlinks: bool = False,
        sidecars: bool = True,
        exclude: Sequence[str] = (),
        include_all: bool = False,
        **batch: Unpack[Batch],
    ) -> IngestReport:
        """Files and folders. ``sync=True`` also tombstones the live documents under
        ``prefix`` that are no longer there; a missing path disables that, so a typo never
        empties a knowledge base."""
        if sync and any(Path(p).is_file() for p in paths):
            raise InvalidInput("sync mirrors directories; give folders, not files, with sync")
        sources, failures = discover(
            paths,
            prefix,
            follow_symlinks=follow_symlinks,
            sidecars=sidecars,
            exclude=exclude,
            include_all=include_all,
        )
        missing = any(f.reason == "no such file or directory" for f in failures)
        mirror = prefix if sync and not missing else None
        return self.run(sources, failures=failures, remove_missing=mirror, **batch)

    def texts(self, records: Iterable[TextRecord], **batch: Unpack[Batch]) -> IngestReport:
        """Documents given as text (records of a data set, pages fetched elsewhere)."""
        return self.run(text_sources(records), **batch)

    def follow(
        self,
        directory: str | Path,
        *,
        prefix: str = "",
        follow_symlinks: bool = False,
        sidecars: bool = True,
        stop_event: threading.Event | None = None,
        debounce_ms: int = 300,
        exclude: Sequence[str] = (),
        include_all: bool = False,
        **batch: Unpack[Batch],
    ) -> Iterator[IngestReport]:
        """Each batch of changes under ``directory`` ingested as it comes (deleted files
        tombstoned), until ``stop_event`` is set (or Ctrl-C)."""
        for change in changes(
            directory,
            prefix=prefix,
            follow_symlinks=follow_symlinks,
            sidecars=sidecars,
            stop_event=stop_event,
            debounce_ms=debounce_ms,
            exclude=exclude,
            include_all=include_all,
        ):
            yield self.run(change.sources, failures=change.failures, remove=change.gone, **batch)

    def run(
        self,
        sources: Sequence[IngestSource],
        *,
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        failures: Sequence[Outcome] = (),
        remove_missing: str | None = None,
        remove: Sequence[str] = (),
        on_progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest ``sources`` and tombstone the documents in ``remove``; with
        ``remove_missing`` (a doc-id prefix), also the live documents under it that are not
        among the sources (a mirror of a folder). Outcomes come in the order of the sources;
        each document is committed once it is parsed."""
        report = IngestReport()
        # A mirror needs every live document under its prefix; a batch, only its own.
        asked = {source.doc_id for source in sources}.union(remove)
        state = self.catalog.current_state(None if remove_missing is not None else asked)
        removals = [d for d in remove if d in state]
        if remove_missing is not None:
            removals += sorted(d for d in state if d.startswith(remove_missing) and d not in asked)
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

        given = list(access) if access is not None else None
        for source in sources:
            prepared = self._prepare(source, state.get(source.doc_id), given, metadata)
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
        source: IngestSource,
        state: CurrentState | None,
        access: list[str] | None,
        metadata: dict[str, Any] | None,
    ) -> Outcome | tuple[_Pending, bytes]:
        """Read, hash and compare with the current version: an outcome if nothing needs
        parsing (unchanged, unreadable), else what the commit needs and the bytes to parse."""
        label = str(source.path) if source.path else source.uri
        try:
            data, mtime = self._read(source)
            sidecar = read_sidecar(source)
        except TooLarge as exc:
            return Outcome(source.doc_id, Status.SKIPPED, label, reason=str(exc))
        except SourceError as exc:
            return Outcome(source.doc_id, Status.FAILED, label, reason=str(exc))
        if not data.strip():  # an empty __init__.py is nothing to read, not a broken file
            return Outcome(source.doc_id, Status.SKIPPED, label, reason="empty file")
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

    def _read(self, source: IngestSource) -> tuple[bytes, float | None]:
        if source.data is not None:
            return source.data, None
        assert source.path is not None
        try:
            stat = source.path.stat()
            if stat.st_size > self.max_bytes:
                size, limit = stat.st_size / 1e6, self.max_bytes / 1e6
                raise TooLarge(f"file too large ({size:.0f} MB; the limit is {limit:.0f} MB)")
            return source.path.read_bytes(), stat.st_mtime
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror or exc}") from exc


def _first_given(*options: list[str] | None) -> list[str] | None:
    return next((option for option in options if option is not None), None)
