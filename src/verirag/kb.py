"""The facade: one knowledge base in one directory."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from verirag.catalog import Catalog, DocumentInfo, StoredChunk, VersionInfo
from verirag.chunking import Chunker, load_tokenizer
from verirag.config import CATALOG_FILE, Config
from verirag.ingest import (
    SIDECAR_SUFFIX,
    Ingestor,
    IngestReport,
    Outcome,
    Progress,
    Source,
    Status,
    TextRecord,
    discover,
    is_sidecar,
    text_sources,
)

DEFAULT_PATH = ".verirag"


class KnowledgeBase:
    """Documents, their versions and chunks in a directory (``catalog.db`` + settings).

    >>> kb = KnowledgeBase("kb")            # created on first use
    >>> kb.ingest("docs/")                  # new, changed, unchanged, failed per file
    >>> kb.history("refund-policy.md")      # every version, newest last
    """

    def __init__(self, path: str | Path = DEFAULT_PATH, *, config: Config | None = None) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        stored = Config.load(self.path)
        if stored is None:
            self.config = config or Config()
            self.config.save(self.path)
        elif config is not None and config != stored:
            raise ValueError(
                f"{self.path} was created with {stored.model_dump()}; "
                "open it without a config, or create a new knowledge base"
            )
        else:
            self.config = stored
        self.catalog = Catalog.open(self.path / CATALOG_FILE)
        self._chunker: Chunker | None = None
        self._ingestor = Ingestor(
            self.catalog, lambda: self.chunker, max_bytes=self.config.max_file_mb * 1_000_000
        )

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            tokenizer = load_tokenizer(self.config.tokenizer)
            self._chunker = Chunker(tokenizer, self.config.chunk_tokens, self.config.chunk_overlap)
        return self._chunker

    # -- ingest -----------------------------------------------------------------------

    def ingest(
        self,
        *paths: str | Path,
        sync: bool = False,
        prefix: str = "",
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        on_progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest files and directories. Each document's id is ``prefix`` + its path relative
        to the directory given (or its file name). ``sync=True`` also tombstones the live
        documents under ``prefix`` that are no longer there; a missing path disables that, so
        a typo never empties a knowledge base. ``access`` and ``metadata`` not given keep the
        current version's."""
        if sync and any(Path(p).is_file() for p in paths):
            raise ValueError("sync mirrors directories; give folders, not files, with sync")
        sources, failures = discover(paths, prefix)
        missing = any(f.reason == "no such file or directory" for f in failures)
        return self._ingestor.run(
            sources,
            access=list(access) if access is not None else None,
            metadata=metadata,
            failures=failures,
            remove_missing=prefix if sync and not missing else None,
            on_progress=on_progress,
        )

    def ingest_texts(
        self,
        records: Iterable[TextRecord],
        *,
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        on_progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest documents given as text (records of a data set, pages fetched elsewhere)."""
        return self._ingestor.run(
            text_sources(records),
            access=list(access) if access is not None else None,
            metadata=metadata,
            on_progress=on_progress,
        )

    def remove(self, doc_id: str) -> Outcome:
        """Tombstone a document: it leaves search; its history stays."""
        removed = self.catalog.remove(doc_id)
        if removed is None:
            raise KeyError(f"{doc_id} is not a live document")
        return Outcome(doc_id, Status.REMOVED, "", version=removed.version)

    def watch(
        self,
        directory: str | Path,
        *,
        prefix: str = "",
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        stop_event: threading.Event | None = None,
        on_progress: Progress | None = None,
        debounce_ms: int = 300,
    ) -> None:
        """Follow ``directory``: changed files are re-ingested, deleted ones tombstoned, until
        ``stop_event`` is set (or Ctrl-C). Call :meth:`ingest` with ``sync=True`` first to
        start from a mirror of the folder."""
        import watchfiles

        root = Path(directory).resolve()
        for changes in watchfiles.watch(
            root, stop_event=stop_event, debounce=debounce_ms, raise_interrupt=False
        ):
            touched: set[Path] = set()
            for _, changed in changes:
                changed_path = Path(changed)
                if is_sidecar(changed_path):  # a sidecar change re-ingests its document
                    changed_path = changed_path.with_name(changed_path.name[: -len(SIDECAR_SUFFIX)])
                touched.add(changed_path)
            sources: list[Source] = []
            gone: list[str] = []
            for path in sorted(touched):
                if path.is_dir():
                    continue
                try:
                    doc_id = prefix + path.relative_to(root).as_posix()
                except ValueError:
                    continue
                if path.is_file():
                    found, _ = discover([path], "")
                    sources.extend(Source(doc_id, s.uri, s.name, path=s.path) for s in found)
                elif not any(part.startswith(".") for part in path.relative_to(root).parts):
                    gone.append(doc_id)
            report = self._ingestor.run(
                sources,
                access=list(access) if access is not None else None,
                metadata=metadata,
                on_progress=on_progress,
            )
            for i, doc_id in enumerate(gone, start=1):
                removed = self.catalog.remove(doc_id)
                if removed is not None and on_progress is not None:
                    outcome = Outcome(doc_id, Status.REMOVED, "", version=removed.version)
                    on_progress(outcome, len(report.outcomes) + i, len(report.outcomes) + len(gone))

    # -- read -------------------------------------------------------------------------

    def documents(self, *, include_removed: bool = False) -> list[DocumentInfo]:
        return self.catalog.documents(include_removed=include_removed)

    def history(self, doc_id: str) -> list[VersionInfo]:
        return self.catalog.history(doc_id)

    def version(self, doc_id: str, version: int | None = None) -> VersionInfo:
        """A version with its text: the current one by default."""
        return self.catalog.version(doc_id, version)

    def chunks(self, doc_id: str, version: int | None = None) -> list[StoredChunk]:
        if version is None:
            version = self.catalog.version(doc_id).version
        return self.catalog.chunks(doc_id, version)

    def diff(self, doc_id: str, old: int, new: int, *, context: int = 3) -> list[str]:
        """Unified diff of two versions' normalised text, as lines."""
        a, b = self.version(doc_id, old), self.version(doc_id, new)
        return list(
            difflib.unified_diff(
                (a.text or "").splitlines(),
                (b.text or "").splitlines(),
                f"{doc_id}@{old}",
                f"{doc_id}@{new}",
                n=context,
                lineterm="",
            )
        )

    def check(self) -> list[str]:
        """Catalog integrity problems; empty when every document is whole."""
        return self.catalog.check()

    # -- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
