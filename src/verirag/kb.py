"""The facade: one knowledge base in one directory."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from verirag.access import may_read, normalise
from verirag.chunking import Chunker, embedded_text
from verirag.config import CATALOG_FILE, INDEX_DIR, MAX_QUERY_CHARS, MAX_QUERY_TOKENS, Config
from verirag.embedding import (
    CachedEmbedder,
    Embedder,
    Vectors,
    embed_cached,
    load_embedder,
)
from verirag.errors import InvalidInput, NotFound
from verirag.evaluation.qa import QA, QARun, evaluate_qa
from verirag.generation import Answer, Generator, answer, load_generator
from verirag.generation._base import TokenSink
from verirag.index import OPEN, Index, IndexPoint, Scope, check_filters, open_index
from verirag.ingest import (
    ChunkerSpec,
    Ingestor,
    IngestReport,
    Outcome,
    ParsePool,
    Progress,
    Status,
    TextRecord,
    changes,
    discover,
    text_sources,
)
from verirag.results import AsOf, EmbedProgress, SearchResult, as_timestamp
from verirag.retrieval import Retriever, SearchOptions, load_reranker
from verirag.store import (
    AuditLog,
    AuditRecord,
    DocumentInfo,
    EvalRuns,
    IndexRow,
    KeyStore,
    Store,
    StoredChunk,
    VersionInfo,
)
from verirag.text import replaced

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
        elif config is not None and config.stored() != stored.stored():
            raise ValueError(
                f"{self.path} was made with {stored.stored()}; open it without those "
                "settings, or make a new knowledge base"
            )
        elif config is not None and config != stored:
            self.config = config  # query-time settings (re-ranker, threads, limits) may change
            self.config.save(self.path)
        else:
            self.config = stored
        self.store = Store.open(self.path / CATALOG_FILE)
        self.catalog = self.store.catalog
        self.cache = self.store.vectors
        self._chunker: Chunker | None = None
        self._embedder: Embedder | None = None
        self._index: Index | None = None
        self._retriever: Retriever | None = None
        self._generators: dict[str, Generator] = {}
        # Versions are immutable, so what one rewrote never changes: computed once each.
        self._edits = functools.lru_cache(maxsize=4096)(self._rewrote)
        spec = ChunkerSpec(
            self.config.tokenizer,
            self.config.chunking,
            self.config.chunk_tokens,
            self.config.chunk_overlap,
        )
        self._parsers = ParsePool(
            spec,
            workers=self.config.parse_workers,
            timeout_s=self.config.parse_timeout_s,
            memory_mb=self.config.parse_memory_mb,
        )
        self._ingestor = Ingestor(
            self.catalog, self._parsers, max_bytes=self.config.max_file_mb * 1_000_000
        )

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            self._chunker = self._parsers.spec.build()
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
        on_embed: EmbedProgress | None = None,
        index: bool = True,
        follow_symlinks: bool = False,
        sidecars: bool = True,
    ) -> IngestReport:
        """Ingest files and directories. Each document's id is ``prefix`` + its path relative
        to the directory given (or its file name). ``sync=True`` also tombstones the live
        documents under ``prefix`` that are no longer there; a missing path disables that, so
        a typo never empties a knowledge base. ``access`` and ``metadata`` not given keep the
        current version's. ``index=False`` leaves the index behind the catalog until the next
        search (or ``sync_index``), for bulk loads. Symlinks out of a folder are reported,
        not followed, unless ``follow_symlinks``; ``sidecars=False`` ignores
        ``<file>.verirag.toml`` files (uploads)."""
        if sync and any(Path(p).is_file() for p in paths):
            raise ValueError("sync mirrors directories; give folders, not files, with sync")
        sources, failures = discover(
            paths, prefix, follow_symlinks=follow_symlinks, sidecars=sidecars
        )
        missing = any(f.reason == "no such file or directory" for f in failures)
        report = self._ingestor.run(
            sources,
            access=list(access) if access is not None else None,
            metadata=metadata,
            failures=failures,
            remove_missing=prefix if sync and not missing else None,
            on_progress=on_progress,
        )
        if index:
            self.sync_index(on_embed)
        return report

    def ingest_texts(
        self,
        records: Iterable[TextRecord],
        *,
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        on_progress: Progress | None = None,
        on_embed: EmbedProgress | None = None,
        index: bool = True,
    ) -> IngestReport:
        """Ingest documents given as text (records of a data set, pages fetched elsewhere)."""
        report = self._ingestor.run(
            text_sources(records),
            access=list(access) if access is not None else None,
            metadata=metadata,
            on_progress=on_progress,
        )
        if index:
            self.sync_index(on_embed)
        return report

    def remove(self, doc_id: str) -> Outcome:
        """Tombstone a document: it leaves search; its history stays."""
        removed = self.catalog.remove(doc_id)
        if removed is None:
            raise NotFound(f"{doc_id} is not a live document")
        self.sync_index()
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
        for change in changes(
            directory, prefix=prefix, stop_event=stop_event, debounce_ms=debounce_ms
        ):
            self._ingestor.run(
                change.sources,
                access=list(access) if access is not None else None,
                metadata=metadata,
                failures=change.failures,
                remove=change.gone,
                on_progress=on_progress,
            )
            self.sync_index()

    # -- index ------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.config.embedder, threads=self.config.threads)
        return self._embedder

    @property
    def index(self) -> Index:
        """The search index, reconciled with the catalog on first use."""
        if self._index is None:
            self.sync_index()  # opens it
        assert self._index is not None
        return self._index

    def _open_index(self) -> Index:
        return open_index(str(self.path / INDEX_DIR), self.embedder.dim, self.embedder.model_id)

    def sync_index(self, on_embed: EmbedProgress | None = None, batch: int = 256) -> int:
        """Apply every catalog commit the index has not seen; returns the chunks embedded
        (the rest come from the cache). Safe to repeat: writes are idempotent, and the
        watermark moves only once everything up to it is durable."""
        if self._index is None:
            self._index = self._open_index()
        index = self._index
        target = self.catalog.last_seq()
        since = index.watermark
        if target <= since:
            return 0
        total = self.catalog.count_index_rows_since(since)
        done = embedded = 0
        rows: list[IndexRow] = []

        def flush() -> None:
            nonlocal done, embedded
            texts = [embedded_text(r.context, r.text) for r in rows]
            vectors, fresh = embed_cached(self.embedder, self.cache, texts)
            index.upsert(
                [
                    IndexPoint(
                        r.doc_id,
                        r.version,
                        r.chunk_id,
                        r.ordinal,
                        text,
                        vector,
                        r.seq,
                        r.valid_to_seq or OPEN,
                        r.access,
                        r.metadata,
                        r.doc_access,
                    )
                    for r, text, vector in zip(rows, texts, vectors, strict=True)
                ]
            )
            done += len(rows)
            embedded += fresh
            rows.clear()
            if on_embed is not None:
                on_embed(done, total)

        access = self.catalog.access_since(since)
        for row in self.catalog.index_rows_since(since, {d: now for d, (now, _) in access.items()}):
            rows.append(row)
            if len(rows) >= batch:
                flush()
        if rows:
            flush()
        # Restricting a document restricts its older versions too (verirag.access).
        for doc_id, (now, then) in access.items():
            if then is not None and sorted(then) != sorted(now):
                index.relabel(doc_id, now)
        for doc_id, version, valid_to in self.catalog.closed_since(since):
            index.close_version(doc_id, version, valid_to)
        index.set_watermark(target)
        if total >= 1000:
            index.optimize()
        return embedded

    def reindex(self, on_embed: EmbedProgress | None = None) -> int:
        """Rebuild the index from the catalog (vectors come from the embedding cache)."""
        if self._index is not None:
            self._index.close()
            self._index = None
        self._retriever = None
        shutil.rmtree(self.path / INDEX_DIR, ignore_errors=True)
        return self.sync_index(on_embed)

    # -- search -----------------------------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            reranker = (
                load_reranker(self.config.reranker, threads=self.config.threads)
                if self.config.reranker
                else None
            )
            self._retriever = Retriever(self.index, self._embed_query, self.passages, reranker)
        return self._retriever

    def _embed_query(self, query: str) -> Vectors:
        vector: Vectors = self.embedder.embed([query])[0]
        return vector

    def passages(self, keys: Sequence[tuple[str, int, int]]) -> list[str]:
        """The embedded text (breadcrumb + chunk) of (doc, version, ordinal) keys."""
        details = self.catalog.chunk_details(keys)
        return [embedded_text(details[k].chunk.context, details[k].chunk.text) for k in keys]

    def scope(
        self,
        *,
        as_of: AsOf | None = None,
        groups: Sequence[str] | None = None,
        doc_ids: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Scope:
        """What a search may see: live versions (or those valid at ``as_of``), for a
        principal's ``groups`` (``None``: unrestricted), narrowed by ids or metadata."""
        metadata = check_filters(metadata)
        self.sync_index()  # a no-op unless something was ingested with index=False
        seq = self.index.watermark
        if as_of is not None:
            seq = min(seq, self.catalog.seq_at(as_timestamp(as_of)))
        return Scope(seq, normalise(groups), doc_ids, metadata)

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        as_of: AsOf | None = None,
        groups: Sequence[str] | None = None,
        doc_ids: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        options: SearchOptions | None = None,
    ) -> list[SearchResult]:
        """The ``k`` best chunks for ``query``, with their document, version, section,
        location and the score at every stage."""
        self.check_query(query)
        scope = self.scope(as_of=as_of, groups=groups, doc_ids=doc_ids, metadata=metadata)
        return self._search(query, scope, k, options)

    def check_query(self, query: str, what: str = "query") -> None:
        """Refuse an empty query, or one past the documented limits (characters, then the
        embedder's tokens): :class:`InvalidInput`, HTTP 422."""
        if not query.strip():
            raise ValueError(f"empty {what}")
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidInput(f"the {what} is longer than {MAX_QUERY_CHARS} characters")
        if self.count_tokens(query) > MAX_QUERY_TOKENS:
            raise InvalidInput(f"the {what} is longer than {MAX_QUERY_TOKENS} tokens")

    def _search(
        self, query: str, scope: Scope, k: int, options: SearchOptions | None
    ) -> list[SearchResult]:
        ranked = self.retriever.search(query, scope, k, options)
        details = self.catalog.chunk_details([c.key for c in ranked])
        return [SearchResult.make(c, details[c.key]) for c in ranked if c.key in details]

    # -- answer -----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the chunker counts them (context budgets use it)."""
        return int(self.chunker.tokenizer.count([text])[0])

    @property
    def audit(self) -> AuditLog:
        """Every answer's trace (``ask`` records one per call)."""
        return self.store.audit

    @property
    def keys(self) -> KeyStore:
        """The API keys of the HTTP server."""
        return self.store.keys

    @property
    def _sentence_embedder(self) -> Embedder:
        return CachedEmbedder(self.embedder, self.cache)

    def generator(self, spec: str | None = None) -> Generator:
        """The configured generator, or the one ``spec`` names (cached per spec)."""
        spec = spec or self.config.generator
        if spec not in self._generators:
            scorer = (
                load_reranker(self.config.sentence_scorer, threads=self.config.threads)
                if self.config.sentence_scorer and spec == "extractive"
                else None
            )
            self._generators[spec] = load_generator(
                spec, self._sentence_embedder, threads=self.config.threads, scorer=scorer
            )
        return self._generators[spec]

    def ask(
        self,
        question: str,
        *,
        k: int = 8,
        as_of: AsOf | None = None,
        groups: Sequence[str] | None = None,
        principal: str | None = None,
        doc_ids: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        options: SearchOptions | None = None,
        llm: str | None = None,
        schema: dict[str, Any] | None = None,
        on_token: TokenSink | None = None,
        verify: bool = True,
    ) -> Answer:
        """A grounded answer citing ``[n]`` sources (document, section, page, version), every
        sentence checked against what it cites; "The documents don't say ..." when they
        don't. The trace is stored in the audit trail under the answer's id."""
        self.check_query(question, "question")
        started = time.perf_counter()
        scope = self.scope(as_of=as_of, groups=groups, doc_ids=doc_ids, metadata=metadata)
        options = options or SearchOptions()
        results = self._search(question, scope, k, options)
        retrieve = time.perf_counter() - started
        generator = self.generator(llm)
        result = answer(
            question,
            results,
            generator,
            self._sentence_embedder,
            answer_id=uuid.uuid4().hex,
            count_tokens=self.count_tokens,
            schema=schema,
            on_token=on_token,
            verify=verify,
            edits=functools.partial(self._edits_for, scope.groups),
        )
        result.timings = {"retrieve": retrieve, **result.timings}
        price_in, price_out = self.config.prices.get(result.model, (0.0, 0.0))
        result.cost = (result.tokens_in * price_in + result.tokens_out * price_out) / 1e6
        record = _audit_record(result, results, scope, as_of, principal, options, k)
        record.trace["verified"] = verify
        self.audit.record(record)
        return result

    def _edits_for(
        self, groups: Sequence[str] | None, doc_id: str, version: int
    ) -> tuple[tuple[str, str], ...]:
        """What ``version`` rewrote, if a reader of ``groups`` may read the version it
        replaced: the old text is the previous version's, under that version's access."""
        access, edits = self._edits(doc_id, version)
        return edits if may_read(groups, access) else ()

    def _rewrote(self, doc_id: str, version: int) -> tuple[list[str], tuple[tuple[str, str], ...]]:
        """The previous version's access, and what ``version`` of ``doc_id`` says in place of
        that version's sentences."""
        before = self.catalog.previous(doc_id, version)
        if before is None:
            return [], ()
        now = self.catalog.version(doc_id, version).text or ""
        return before.access, tuple(replaced(before.text or "", now))

    # -- evaluate ---------------------------------------------------------------------

    @property
    def eval_runs(self) -> EvalRuns:
        """Stored evaluation runs (``evaluate_qa`` adds one per call)."""
        return self.store.runs

    def evaluate_qa(
        self,
        items: Sequence[QA],
        *,
        k: int = 8,
        llm: str | None = None,
        groups: Sequence[str] | None = None,
        principal: str | None = None,
        options: SearchOptions | None = None,
        verify: bool = True,
        pipeline: str = "full",
        on_progress: EmbedProgress | None = None,
    ) -> QARun:
        """Ask every question (each under its own metadata filter) as ``ask`` would and score
        the answers; ``eval_runs.add`` keeps a run."""
        settings = {
            "pipeline": pipeline,
            "k": k,
            "generator": llm or self.config.generator,
            "chunking": f"{self.config.chunking} {self.config.chunk_tokens} tokens",
            "search": (options or SearchOptions()).mode.value,
            "reranker": self.config.reranker if (options or SearchOptions()).rerank else None,
            "citation_check": verify,
        }

        def ask(item: QA) -> Answer:
            return self.ask(
                item.question,
                k=k,
                groups=groups,
                principal=principal,
                metadata=item.metadata,
                llm=llm,
                options=options,
                verify=verify,
            )

        return evaluate_qa(items, ask, settings=settings, on_progress=on_progress)

    # -- read -------------------------------------------------------------------------

    # Every read takes the reader's ``groups`` (``None``: the owner, who reads everything)
    # and answers a forbidden document or version exactly as a missing one.

    def documents(
        self, *, include_removed: bool = False, groups: Sequence[str] | None = None
    ) -> list[DocumentInfo]:
        return self.catalog.documents(include_removed=include_removed, groups=normalise(groups))

    def history(self, doc_id: str, *, groups: Sequence[str] | None = None) -> list[VersionInfo]:
        return self.catalog.history(doc_id, groups=normalise(groups))

    def version(
        self, doc_id: str, version: int | None = None, *, groups: Sequence[str] | None = None
    ) -> VersionInfo:
        """A version with its text: the current one by default."""
        return self.catalog.version(doc_id, version, groups=normalise(groups))

    def chunks(
        self, doc_id: str, version: int | None = None, *, groups: Sequence[str] | None = None
    ) -> list[StoredChunk]:
        if version is None:
            version = self.version(doc_id, groups=groups).version
        return self.catalog.chunks(doc_id, version, groups=normalise(groups))

    def diff(
        self,
        doc_id: str,
        old: int,
        new: int,
        *,
        context: int = 3,
        groups: Sequence[str] | None = None,
    ) -> list[str]:
        """Unified diff of two versions' normalised text, as lines."""
        a, b = self.version(doc_id, old, groups=groups), self.version(doc_id, new, groups=groups)
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
        self._parsers.close()
        if self._index is not None:
            self._index.close()
            self._index = None
        self._retriever = None
        self.store.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _audit_record(
    result: Answer,
    results: Sequence[SearchResult],
    scope: Scope,
    as_of: AsOf | None,
    principal: str | None,
    options: SearchOptions,
    k: int,
) -> AuditRecord:
    prompt = result.prompt or None
    trace: dict[str, Any] = {
        "answer": result.text,
        "reason": result.reason,
        "as_of": None if as_of is None else as_timestamp(as_of),
        "seq": scope.seq,
        "groups": None if scope.groups is None else list(scope.groups),
        "doc_ids": None if scope.doc_ids is None else list(scope.doc_ids),
        "metadata": scope.metadata,
        "k": k,
        "options": {key: str(v) for key, v in dataclasses.asdict(options).items()},
        "retrieved": [
            {
                "doc_id": r.doc_id,
                "version": r.version,
                "chunk_id": r.chunk_id,
                "score": r.score,
                "scores": r.scores,
                "ranks": r.ranks,
            }
            for r in results
        ],
        "sources": [s.to_json() for s in result.sources],
        "claims": [dataclasses.asdict(c) for c in result.claims],
        "data": result.data,
        "fields": result.fields,
        "prompt": prompt,
        "prompt_sha256": None
        if prompt is None
        else hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest(),
        "timings_ms": {stage: round(t * 1000, 3) for stage, t in result.timings.items()},
    }
    return AuditRecord(
        answer_id=result.answer_id,
        created_at=time.time(),
        question=result.question,
        principal=principal,
        abstained=result.abstained,
        model=result.model,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        cost=result.cost,
        trace=trace,
    )
