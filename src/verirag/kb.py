"""The facade: one knowledge base in one directory. It opens the stages, composes them and
delegates; the work is theirs (ingest, index.sync, retrieval, generation, trace, store)."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Unpack

from verirag import index as index_sync
from verirag.access import normalise
from verirag.chunking import Chunker
from verirag.config import CATALOG_FILE, CONFIG_FILE, INDEX_DIR, Config, check_query
from verirag.embedding import CachedEmbedder, Embedder, embed_cached, load_embedder
from verirag.errors import InvalidInput, NotFound, OutsideHistory
from verirag.generation import (
    Answer,
    Generator,
    Generators,
    Rewrites,
    Source,
    TokenSink,
    answer,
    standalone,
)
from verirag.generation import sources_for as assemble_sources
from verirag.index import EmbedProgress, Filters, Index, Scope, check_filters, open_index
from verirag.ingest import (
    Batch,
    Files,
    Ingestor,
    IngestReport,
    Outcome,
    Status,
    TextRecord,
)
from verirag.owner import OwnerLock, Readers, remove_server
from verirag.retrieval import (
    Reranker,
    Retriever,
    ScoredChunk,
    SearchOptions,
    SearchResult,
    Timings,
    load_reranker,
)
from verirag.store import (
    Database,
    DocumentInfo,
    Store,
    StoredChunk,
    VersionInfo,
    WriterBusy,
    as_timestamp,
    sqlite_url,
)
from verirag.store.copy import copy_database
from verirag.text import unified_diff
from verirag.trace import audit_record, price

DEFAULT_PATH = ".verirag"
MAX_HISTORY = 10  # earlier questions a follow-up is made standalone from
# Committed chunks that are embedded while the parse workers go on (one embedding batch).
PIPELINE_CHUNKS = 256
# Seconds a publish inside one ingest batch may stay unflushed.
BULK_DURABLE_S = 5.0
# How often the history horizon (``history_days`` back) is looked up and compacted to: a
# minute, or a tenth of a shorter window.
COMPACT_EVERY_S = 60.0


class KnowledgeBase:
    """Documents, their versions and chunks in a directory (``catalog.db`` + settings). The
    embedder, index, generator and re-ranker come from the config's spec strings, or are
    passed in as instances (a model already loaded, an index of your own).

    >>> kb = KnowledgeBase("kb")            # created on first use
    >>> kb.ingest("docs/")                  # new, changed, unchanged, failed per file
    >>> kb.history("refund-policy.md")      # every version, newest last
    """

    def __init__(
        self,
        path: str | Path = DEFAULT_PATH,
        *,
        config: Config | None = None,
        embedder: Embedder | None = None,
        index: Index | None = None,
        generator: Generator | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        # Before any other file is opened: a second process must never write here. On the
        # cluster profile (a catalog on a server, and an index on a server or passed in: a
        # process's own replica) the directory holds only settings, and any number of
        # processes share the knowledge base.
        self._lock = OwnerLock(self.path)
        settings = config or Config.load(self.path) or Config()
        self.shared = settings.catalog is not None and (
            settings.index is not None or index is not None
        )
        if not self.shared:
            self._lock.acquire()  # Busy: another process owns it
            remove_server(self.path)  # a server that owned it is gone (its lock went with it)
        try:
            self._open(config, embedder, index, generator, reranker)
        except BaseException:
            self._lock.release()
            raise

    def _open(
        self,
        config: Config | None,
        embedder: Embedder | None,
        index: Index | None,
        generator: Generator | None,
        reranker: Reranker | None,
    ) -> None:
        self.config = Config.reconcile(self.path, config)
        self.store = Store(Database(self.config.catalog or sqlite_url(self.path / CATALOG_FILE)))
        for leftover in (".next", ".old"):  # a reindex stopped before its switch
            shutil.rmtree(self.path / f"{INDEX_DIR}{leftover}", ignore_errors=True)
        self.catalog = self.store.catalog
        self.audit = self.store.audit  # every answer's trace (``ask`` records one per call)
        self.keys = self.store.keys  # the HTTP server's API keys
        self.eval_runs = self.store.runs  # kept evaluation runs (``eval_runs.add``)
        self._embedder = embedder
        self._index = index
        self._own_index = index is None
        self._reranker = reranker
        self._retriever: Retriever | None = None
        self._generators = Generators(
            generator or self.config.generator,
            lambda: self._sentence_embedder,
            threads=self.config.threads,
            sentence_scorer=self.config.sentence_scorer,
        )
        self._rewrites = Rewrites(self.catalog)
        self.jobs = self.store.jobs  # uploads waiting for a `verirag worker`
        self.conversations = self.store.conversations  # threads of questions, per principal
        self._ingestor = Ingestor.from_config(self.catalog, self.config)
        # One writer applies commits to the index; readers never wait for it (they search
        # at the watermark it last published, and MVCC hides what it writes past it).
        self._writing = threading.RLock()
        self._readers = Readers()
        # A search first catches the index up with the catalog (a library caller who
        # ingested with index=False); a server turns this off and lets its writer do it.
        self.sync_on_read = True
        # Merge segments after a bulk load. A server turns it off: the engine holds the GIL
        # for the whole merge (seconds; edge_threads.py): every request would stall.
        self.optimize_bulk = True
        self._durable_every = 0.0
        self._horizon = (0, -math.inf)  # (commit, when it was looked up)

    @functools.cached_property
    def chunker(self) -> Chunker:
        return self._ingestor.pool.spec.build()

    # -- ingest -----------------------------------------------------------------------

    def ingest(
        self,
        *paths: str | Path,
        sync: bool = False,
        index: bool = True,
        on_embed: EmbedProgress | None = None,
        **options: Unpack[Files],
    ) -> IngestReport:
        """Ingest files and directories (``options``: :class:`verirag.ingest.Files`).
        ``sync=True`` also tombstones the live documents under ``prefix`` that are no longer
        there; a missing path disables that, so a typo never empties a knowledge base.
        ``index=False`` leaves the index behind the catalog until the next search (or
        ``sync_index``), for bulk loads."""
        if not index:
            return self._ingestor.files(paths, sync=sync, **options)
        with self._pipelined(options, on_embed):
            return self._ingestor.files(paths, sync=sync, **options)

    def ingest_texts(
        self,
        records: Iterable[TextRecord],
        *,
        index: bool = True,
        on_embed: EmbedProgress | None = None,
        **options: Unpack[Batch],
    ) -> IngestReport:
        """Ingest documents given as text (records of a data set, pages fetched elsewhere)."""
        if not index:
            return self._ingestor.texts(records, **options)
        with self._pipelined(options, on_embed):
            return self._ingestor.texts(records, **options)

    @contextlib.contextmanager
    def _pipelined(self, options: Batch, on_embed: EmbedProgress | None) -> Iterator[None]:
        """Embed while the workers parse: every ``PIPELINE_CHUNKS`` committed chunks are
        indexed (and published to readers) as the batch goes on, and the rest at the end,
        however the batch ends (so a cancelled batch leaves what it committed searchable)."""
        given = options.get("on_progress")
        pending = 0  # chunks committed since the last publish
        before = 0  # chunks indexed by the earlier publishes of this batch
        this = 0  # chunks indexed by the publish running now
        built = 0  # chunks of this batch indexed when the index was last built

        def embedding(done: int, total: int) -> None:
            nonlocal this
            this = done
            if on_embed is not None:  # one count over the whole batch
                on_embed(before + done, before + total)

        def publish() -> None:
            nonlocal before, this, built
            this = 0
            self.sync_index(embedding, optimize=False)
            before += this
            # New points wait in a segment held in memory, searched by brute force, until a
            # build: a long batch builds as it goes, so neither grows with the batch.
            if self.optimize_bulk and before - built >= index_sync.OPTIMIZE_EVERY:
                self.index.optimize()
                built = before

        def progress(outcome: Outcome, done: int, total: int) -> None:
            nonlocal pending
            pending += outcome.n_chunks
            if pending >= PIPELINE_CHUNKS:
                pending = 0
                publish()
            if given is not None:
                given(outcome, done, total)

        options["on_progress"] = progress
        # A publish inside the batch is not flushed on its own (a flush every 256 chunks was
        # 8% of a bulk load's time, benchmarks/scale.py); the batch ends durable, with one flush.
        was = self._durable_every
        self.durable_every = max(was, BULK_DURABLE_S)
        try:
            yield
            publish()
        except BaseException:
            self.sync_index()  # what was committed becomes searchable
            raise
        finally:
            self.durable_every = was
            if was == 0:
                with self._writing:
                    if self._index is not None:
                        self._index.persist()
        if self.optimize_bulk and before - built >= index_sync.OPTIMIZE_AFTER:
            self.index.optimize()

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
        stop_event: threading.Event | None = None,
        debounce_ms: int = 300,
        **options: Unpack[Files],
    ) -> None:
        """Follow ``directory``: changed files are re-ingested, deleted ones tombstoned, until
        ``stop_event`` is set (or Ctrl-C). Call :meth:`ingest` with ``sync=True`` first to
        start from a mirror of the folder."""
        for _ in self._ingestor.follow(
            directory, stop_event=stop_event, debounce_ms=debounce_ms, **options
        ):
            self.sync_index()

    # -- index ------------------------------------------------------------------------

    @functools.cached_property
    def embedder(self) -> Embedder:
        return self._embedder or load_embedder(self.config.embedder, threads=self.config.threads)

    @property
    def index(self) -> Index:
        """The search index, reconciled with the catalog on first use."""
        if self._index is None:
            self.sync_index()  # opens it
        assert self._index is not None
        return self._index

    @property
    def durable_every(self) -> float:
        """Seconds a published index change may stay unflushed (:attr:`Index.durable_every`;
        default 0). A server raises it: a flush holds the GIL (verirag.server.service)."""
        return self._durable_every

    @durable_every.setter
    def durable_every(self, seconds: float) -> None:
        self._durable_every = seconds
        if self._index is not None:
            self._index.durable_every = seconds

    def sync_index(
        self,
        on_embed: EmbedProgress | None = None,
        batch: int = 256,
        *,
        optimize: bool = True,
        wait: bool = True,
    ) -> int:
        """Apply every catalog commit the index has not seen; returns the chunks embedded
        (the rest come from the cache). An index that several processes share has one writer
        at a time (:meth:`verirag.store.Database.writer_lock`): this waits for it, or with
        ``wait=False`` raises :class:`verirag.store.WriterBusy` while another one writes."""
        with self._writing:
            if self._index is None:
                self._index = self._open_index(self.path / INDEX_DIR)
                self._index.durable_every = self._durable_every
            # Named without its settings (an api_key among them).
            shared = self.config.index if self.config.catalog is not None else None
            shared = shared.split("?", 1)[0] if shared else None
            writer = (
                self.store.db.writer_lock(shared, wait=wait)
                if shared is not None
                else contextlib.nullcontext()
            )
            with writer:
                return self._apply(
                    self._index, on_embed, batch=batch, optimize=optimize and self.optimize_bulk
                )

    def _open_index(self, path: Path) -> Index:
        return open_index(
            self.config.index or str(path),
            self.embedder.dim,
            self.embedder.model_id,
            quantization=self.config.quantization == "int8",
            on_disk=self.config.index_on_disk,
        )

    def _apply(
        self, index: Index, on_embed: EmbedProgress | None, *, batch: int = 256, optimize: bool
    ) -> int:
        """Every catalog commit ``index`` has not seen, applied (vectors from the cache)."""
        embed = functools.partial(embed_cached, self.embedder, self.store.vectors)
        return index_sync.sync(
            index,
            self.catalog,
            embed,
            on_embed=on_embed,
            batch=batch,
            optimize=optimize,
            horizon=self.history_horizon(),
        )

    def history_horizon(self) -> int:
        """The last commit older than ``history_days``: versions closed by then leave the
        index (0 when history is kept for ever). Looked up a tenth of the window apart, at
        most :data:`COMPACT_EVERY_S`."""
        days = self.config.history_days
        if days is None:
            return 0
        seq, when = self._horizon
        if time.monotonic() - when >= min(COMPACT_EVERY_S, days * 8640):
            seq = self.catalog.seq_at(time.time() - days * 86400)
            self._horizon = (seq, time.monotonic())
        return seq

    def reindex(self, on_embed: EmbedProgress | None = None) -> int:
        """Rebuild the index from the catalog (vectors come from the embedding cache) beside
        the one in use, then switch to it: searches go on against the old one until the switch,
        which waits for those in flight (milliseconds)."""
        if not self._own_index:
            raise InvalidInput("an index passed in is rebuilt by whoever made it")
        if self.config.index is not None:
            raise InvalidInput(
                f"reindex rebuilds the embedded index; a Qdrant collection ({self.config.index}) "
                "is rebuilt from the catalog on the next open once the collection is dropped"
            )
        live, fresh, old = (self.path / f"{INDEX_DIR}{end}" for end in ("", ".next", ".old"))
        with self._writing:
            shutil.rmtree(fresh, ignore_errors=True)
            index = self._open_index(fresh)
            try:
                done = self._apply(index, on_embed, optimize=self.optimize_bulk)
            finally:
                index.close()
            with self._readers.exclusive():
                self._close_index()
                if live.exists():
                    os.replace(live, old)
                os.replace(fresh, live)
                shutil.rmtree(old, ignore_errors=True)
                self.sync_index()  # reopened, with anything committed since the rebuild
                self.retriever  # noqa: B018  (built before the readers resume)
        return done

    def migrate(
        self,
        destination: str | Path,
        *,
        catalog: str | None = None,
        index: str | None = None,
        on_embed: EmbedProgress | None = None,
    ) -> dict[str, int]:
        """Copy this knowledge base into a new one at ``destination`` whose catalog and index
        are ``catalog`` and ``index`` (``None``: embedded in the directory), so a knowledge
        base moves from the embedded profile to the cluster profile and back: documents,
        versions, history, audit, keys, evaluation runs, jobs and cached vectors, as they
        were. Its index is built from the copied catalog; nothing is embedded again. Returns
        the rows copied per table."""
        destination = Path(destination)
        if (destination / CONFIG_FILE).exists():
            raise InvalidInput(f"{destination} is a knowledge base already: migrate to a new one")
        config = self.config.model_copy(update={"catalog": catalog, "index": index})
        destination.mkdir(parents=True, exist_ok=True)
        target = Database(catalog or sqlite_url(destination / CATALOG_FILE))
        try:
            copied = copy_database(self.store.db, target)
        finally:
            target.close()
        with KnowledgeBase(destination, config=config, embedder=self.embedder) as moved:
            moved.sync_index(on_embed)
        return copied

    # -- search -----------------------------------------------------------------------

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            if self._reranker is None and self.config.reranker:
                self._reranker = load_reranker(self.config.reranker, threads=self.config.threads)
            self._retriever = Retriever(self.index, self.embedder, self.catalog, self._reranker)
        return self._retriever

    def passages(self, keys: Sequence[tuple[str, int, int]]) -> list[str]:
        """The embedded text (breadcrumb + chunk) of (doc, version, ordinal) keys."""
        return self.retriever.passages(keys)

    def scope(self, **filters: Unpack[Filters]) -> Scope:
        """What a search may see (:class:`verirag.index.Filters`), at the index's watermark."""
        metadata = check_filters(filters.get("metadata"))
        # A no-op unless something was ingested with index=False; skipped while the writer is
        # busy (it publishes what it applies): a reader never waits for it.
        if self.sync_on_read and self._writing.acquire(blocking=False):
            try:
                self.sync_index(wait=False)
            except WriterBusy:
                pass  # another process is applying the commits, and publishes them
            finally:
                self._writing.release()
        seq = self.index.watermark  # opened (and caught up) on first use
        if (as_of := filters.get("as_of")) is not None:
            seq = min(seq, self.catalog.seq_at(as_timestamp(as_of)))
        scope = Scope(seq, normalise(filters.get("groups")), filters.get("doc_ids"), metadata)
        self._within_history(scope)
        return scope

    def _within_history(self, scope: Scope) -> None:
        """Refuse a scope older than the history the index keeps: its answer would miss the
        versions compacted away (checked again after a search, which compaction may pass)."""
        horizon = self.index.horizon
        if scope.seq >= horizon:
            return
        kept = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.catalog.commit_time(horizon)))
        raise OutsideHistory(
            f"the index keeps history back to {kept}"
            f" (history_days={self.config.history_days}); to search older versions, raise "
            "history_days (`verirag config history_days=N`) and run `verirag reindex`"
        )

    def retrieve(
        self,
        query: str,
        *,
        k: int = 10,
        scope: Scope | None = None,
        options: SearchOptions | None = None,
        timings: Timings | None = None,
    ) -> list[ScoredChunk]:
        """The ``k`` best chunks (``k=0``: every candidate) of ``scope`` (default: all live
        versions), ranked, with their scores at every stage; no catalog reads."""
        scope = scope or self.scope()
        with self._readers.reading():  # a rebuilt index is not switched in mid-search
            found = self.retriever.search(query, scope, k, options, timings)
        self._within_history(scope)
        return found

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        options: SearchOptions | None = None,
        **filters: Unpack[Filters],
    ) -> list[SearchResult]:
        """The ``k`` best chunks for ``query`` (``filters``: :class:`verirag.index.Filters`),
        with their document, version, section, location and the score at every stage."""
        check_query(query, self.count_tokens)  # empty or too long: refused
        scope = self.scope(**filters)
        return self.retriever.results(self.retrieve(query, k=k, scope=scope, options=options))

    # -- answer -----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the chunker counts them (context budgets use it)."""
        return int(self.chunker.tokenizer.count([text])[0])

    @functools.cached_property
    def _sentence_embedder(self) -> Embedder:
        return CachedEmbedder(self.embedder, self.store.vectors)

    def generator(self, spec: str | None = None) -> Generator:
        """The configured generator (or the one passed in), or the one ``spec`` names."""
        return self._generators.get(spec)

    def sources(
        self,
        question: str,
        *,
        k: int = 8,
        llm: str | None = None,
        **filters: Unpack[Filters],
    ) -> list[Source]:
        """The numbered sources ``ask`` would hand the generator for ``question``."""
        scope = self.scope(**filters)
        results = self.retriever.results(self.retrieve(question, k=k, scope=scope))
        return assemble_sources(
            results,
            self.generator(llm),
            count_tokens=self.count_tokens,
            edits=self._rewrites.for_reader(scope.groups),
        )

    def ask(
        self,
        question: str,
        *,
        k: int = 8,
        principal: str | None = None,
        options: SearchOptions | None = None,
        llm: str | None = None,
        schema: dict[str, Any] | None = None,
        on_token: TokenSink | None = None,
        verify: bool = True,
        history: Sequence[str] = (),
        **filters: Unpack[Filters],
    ) -> Answer:
        """A grounded answer citing ``[n]`` sources (document, section, page, version), every
        sentence checked against what it cites; "The documents don't say ..." when they
        don't. ``history``: the conversation's earlier questions (oldest first), from which a
        follow-up is made standalone before it is searched. The trace, with every stage's
        time, is stored in the audit trail under the answer's id (recorded as ``principal``)."""
        check_query(question, self.count_tokens, "question")
        earlier = list(history)[-MAX_HISTORY:]
        for turn in earlier:
            check_query(turn, self.count_tokens, "earlier question")
        started = time.perf_counter()
        generator = self.generator(llm)
        followup = standalone(question, earlier, generator)
        scope = self.scope(**filters)
        options = options or SearchOptions()
        timings = Timings()
        timings.add("followup", started)
        query = followup.query
        ranked = self.retrieve(query, k=k, scope=scope, options=options, timings=timings)
        results = self.retriever.results(ranked)
        retrieve = time.perf_counter() - started
        result = answer(
            query,
            results,
            generator,
            self._sentence_embedder,
            answer_id=uuid.uuid4().hex,
            count_tokens=self.count_tokens,
            schema=schema,
            on_token=on_token,
            verify=verify,
            edits=self._rewrites.for_reader(scope.groups),
        )
        result.timings = {"retrieve": retrieve, **timings.stages, **result.timings}
        if followup.query != question:
            result.question, result.standalone, result.rewrite = question, query, followup.method
        result.cost = price(result, self.config.prices)
        self.audit.record(
            audit_record(
                result,
                results,
                scope,
                as_of=filters.get("as_of"),
                principal=principal,
                options=options,
                k=k,
                verified=verify,
            )
        )
        return result

    # -- read -------------------------------------------------------------------------

    # Every read takes the reader's ``groups`` (``None``: the owner, who reads everything)
    # and answers a forbidden document or version exactly as a missing one.

    def documents(
        self,
        *,
        include_removed: bool = False,
        groups: Sequence[str] | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> list[DocumentInfo]:
        return self.catalog.documents(
            include_removed=include_removed, groups=normalise(groups), doc_ids=doc_ids
        )

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
        """A version's chunks: the current one's by default."""
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
        return unified_diff(
            a.text or "", b.text or "", f"{doc_id}@{old}", f"{doc_id}@{new}", context
        )

    def check(self) -> list[str]:
        """Catalog integrity problems; empty when every document is whole."""
        return self.catalog.check()

    # -- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        try:
            self._ingestor.close()
            self._close_index()
            self.store.close()
        finally:
            self._lock.release()

    def _close_index(self) -> None:
        if self._index is not None and self._own_index:  # one passed in is its owner's
            self._index.close()
            self._index = None
        self._retriever = None

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
