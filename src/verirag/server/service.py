"""What the HTTP API, the OpenAI-compatible endpoint and the MCP tools do, once, for a
principal: every read is filtered by the principal's access groups (searches inside the index
query, listings and look-ups here), and what a principal may not read answers as missing.

Reads run concurrently, each at the index's last published watermark; every change to the
knowledge base is a job on the one writer (:mod:`verirag.server.jobs`)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, Unpack

from verirag.access import Principal
from verirag.config import UPLOADS_DIR
from verirag.errors import Forbidden, InvalidInput, NotFound
from verirag.evaluation.qa import QA, evaluate
from verirag.generation import Answer, TokenSink
from verirag.ingest import IngestReport, Outcome, Selection, save_upload, upload_name
from verirag.kb import KnowledgeBase
from verirag.retrieval import SearchOptions, SearchResult
from verirag.server.jobs import Job, Jobs, JobView, Queued
from verirag.store import (
    AsOf,
    AuditRecord,
    Conversation,
    DocumentInfo,
    Feedback,
    VersionInfo,
    WriterBusy,
)

DURABLE_EVERY_S = 5.0
# How often a server on a shared catalog looks for commits other processes made.
FOLLOW_S = 1.0
log = logging.getLogger(__name__)


class Service:
    """One knowledge base, many readers, one writer. The index is opened and the models are
    loaded here, before the first request, so no request pays for them (or races to)."""

    def __init__(
        self, kb: KnowledgeBase, jobs: Jobs | None = None, *, queue_uploads: bool = False
    ) -> None:
        """``queue_uploads``: uploads go to the catalog's job queue for ``verirag worker``
        processes (``serve --workers``), not to this process's writer."""
        self.kb = kb
        self.queue_uploads = queue_uploads
        # The engine holds the GIL while it flushes (fsync included: ~40 ms a job here, more
        # on a busy disk), stalling every reader: a writer that publishes job after job
        # flushes at most this often. Readers see each publish at once; the catalog replays
        # the rest on a crash.
        kb.durable_every = DURABLE_EVERY_S
        kb.sync_index()  # caught up with the catalog before serving
        kb.sync_on_read = False  # from now on the writer keeps it caught up
        kb.optimize_bulk = False  # a merge holds the GIL for seconds: never while serving
        kb.retriever  # noqa: B018  (loaded once, here)
        self.jobs = jobs or Jobs()
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        if kb.config.catalog is not None:  # other processes commit too
            self._follower = threading.Thread(
                target=self._follow, name="verirag-follower", daemon=True
            )
            self._follower.start()

    def _follow(self) -> None:
        """Apply the commits other processes make (ingestion workers, other servers) to
        this process's index, or see them published by whoever writes a shared one."""
        kb = self.kb
        while not self._stop.wait(FOLLOW_S):
            try:
                if kb.catalog.last_seq() > kb.index.watermark:
                    kb.sync_index(wait=False)
            except WriterBusy:
                pass  # another process is publishing them
            except Exception:  # a catalog or index that does not answer: tried again
                log.exception("catching up with the catalog failed")

    def close(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join()
        self.jobs.close()

    # -- documents --------------------------------------------------------------------

    def documents(
        self,
        who: Principal,
        *,
        removed: bool = False,
        text: str = "",
        group: str | None = None,
        tag: str | None = None,
        fmt: str | None = None,
    ) -> list[dict[str, Any]]:
        """The documents the principal may read, by id; with ``removed``, an admin's list
        also holds the tombstoned ones. Narrowed to those whose id or title holds ``text``,
        readable by ``group``, tagged ``tag`` (metadata ``tags``) or of format ``fmt``."""
        docs = self.kb.documents(groups=who.groups, include_removed=removed and who.admin)
        wanted = text.casefold()
        return [
            _document_json(d, who)
            for d in docs
            if (not wanted or wanted in f"{d.doc_id}\n{d.title or ''}".casefold())
            and (group is None or group in d.access)
            and (tag is None or tag in _tags(d))
            and (fmt is None or d.format == fmt)
        ]

    def facets(self, who: Principal) -> dict[str, dict[str, int]]:
        """How many readable documents have each format, access group and tag: what the
        document list can be narrowed by."""
        counts: dict[str, Counter[str]] = {
            "formats": Counter(),
            "access": Counter(),
            "tags": Counter(),
        }
        for d in self.kb.documents(groups=who.groups):
            counts["formats"][d.format or ""] += 1
            counts["access"].update(d.access)
            counts["tags"].update(_tags(d))
        return {name: dict(sorted(c.items())) for name, c in counts.items()}

    def document(self, who: Principal, doc_id: str) -> dict[str, Any]:
        """A document and the versions of it the principal may read."""
        kb = self.kb
        versions = kb.history(doc_id, groups=who.groups)  # KeyError: missing or forbidden
        (doc,) = kb.documents(include_removed=True, doc_ids=[doc_id])
        return {
            **_document_json(doc, who),
            "versions": [_version_json(v, who) for v in versions],
        }

    def version(self, who: Principal, doc_id: str, version: int | None = None) -> dict[str, Any]:
        """A version's text and chunk spans (the current version by default)."""
        kb = self.kb
        v = kb.version(doc_id, version, groups=who.groups)
        chunks = kb.chunks(doc_id, v.version, groups=who.groups) if not v.tombstone else []
        return {
            **_version_json(v, who),
            "text": v.text,
            "chunks": [asdict(c) | {"section": list(c.section)} for c in chunks],
        }

    def diff(self, who: Principal, doc_id: str, old: int, new: int) -> list[str]:
        return self.kb.diff(doc_id, old, new, groups=who.groups)

    # -- search and answers -----------------------------------------------------------

    def search(
        self,
        who: Principal,
        query: str,
        *,
        k: int = 10,
        as_of: AsOf | None = None,
        metadata: dict[str, Any] | None = None,
        doc_ids: Sequence[str] | None = None,
        options: SearchOptions | None = None,
    ) -> list[SearchResult]:
        return self.kb.search(
            query,
            k=k,
            as_of=as_of,
            groups=who.groups,
            metadata=metadata,
            doc_ids=doc_ids,
            options=options,
        )

    def ask(
        self,
        who: Principal,
        question: str,
        *,
        k: int = 8,
        as_of: AsOf | None = None,
        metadata: dict[str, Any] | None = None,
        llm: str | None = None,
        schema: dict[str, Any] | None = None,
        on_token: TokenSink | None = None,
        history: Sequence[str] = (),
        conversation_id: str | None = None,
    ) -> Answer:
        """An answer; in a conversation (one of the principal's), a follow-up made standalone
        from its earlier questions, and the turn kept."""
        if conversation_id is not None:
            if history:
                raise InvalidInput("give a conversation_id or a history, not both")
            history = [t.question for t in self.conversation(who, conversation_id).turns]
        result = self.kb.ask(
            question,
            history=history,
            k=k,
            as_of=as_of,
            groups=who.groups,
            principal=who.id,
            metadata=metadata,
            llm=llm,
            schema=schema,
            on_token=on_token,
        )
        if conversation_id is not None:
            self.kb.conversations.add_turn(
                conversation_id,
                question=question,
                standalone=result.standalone or question,
                rewrite=result.rewrite or "as asked",
                answer_id=result.answer_id,
                answer=result.text,
            )
        return result

    # -- conversations ----------------------------------------------------------------

    def start_conversation(self, who: Principal, title: str = "") -> Conversation:
        return self.kb.conversations.get(self.kb.conversations.start(who.id, title))

    def conversations(self, who: Principal, limit: int = 50) -> list[Conversation]:
        """The principal's own conversations, most recent first."""
        return self.kb.conversations.list(principal=who.id, limit=limit)

    def conversation(self, who: Principal, conversation_id: str) -> Conversation:
        found = self.kb.conversations.get(conversation_id)
        if not who.owns(found.principal):
            raise NotFound(f"no conversation {conversation_id!r}")
        return found

    def delete_conversation(self, who: Principal, conversation_id: str) -> None:
        self.conversation(who, conversation_id)  # someone else's: not found
        self.kb.conversations.delete(conversation_id)

    def embed(self, who: Principal, texts: Sequence[str]) -> tuple[list[list[float]], int]:
        """The knowledge base's embeddings of ``texts`` (any principal: no document is read)
        and the tokens they took."""
        vectors = self.kb.embedder.embed(list(texts))
        return vectors.tolist(), sum(self.kb.count_tokens(t) for t in texts)

    def embedder_id(self) -> str:
        return self.kb.embedder.model_id

    def count_tokens(self, text: str) -> int:
        """Tokens in the embedder's tokenizer: how usage is counted without a model's own."""
        return self.kb.count_tokens(text)

    def answers(
        self, who: Principal, limit: int = 50, *, offset: int = 0, rated: bool = False
    ) -> list[AuditRecord]:
        """Recent answers, newest first: all of them for an admin, a principal's own
        otherwise; only those with feedback when ``rated``."""
        owner = None if who.admin else who.id
        records = self.kb.audit.records(limit=limit, offset=offset, principal=owner, rated=rated)
        return list(records)

    def answer(self, who: Principal, answer_id: str) -> AuditRecord:
        record = self.kb.audit.get(answer_id)
        if not who.owns(record.principal):
            raise NotFound(f"no answer {answer_id!r} in the audit trail")
        return record

    def give_feedback(
        self, who: Principal, answer_id: str, *, helpful: bool, comment: str = ""
    ) -> Feedback:
        """Feedback on an answer the principal may read (its own; an admin: any)."""
        self.answer(who, answer_id)
        return self.kb.audit.give_feedback(answer_id, who.id, helpful=helpful, comment=comment)

    # -- evaluation runs --------------------------------------------------------------

    def evaluate(self, who: Principal, items: Sequence[QA], *, k: int = 8) -> str:
        """Score the principal's questions as the principal (the same access filter), and
        store the run."""
        kb = self.kb
        run = evaluate(kb, items, k=k, groups=who.groups, principal=who.id)
        return kb.eval_runs.add(run, principal=who.id)

    def eval_runs(self, who: Principal, limit: int = 50) -> list[dict[str, Any]]:
        """Recent runs without their per-question rows: all for an admin, own otherwise."""
        runs = self.kb.eval_runs.runs(limit=limit, principal=None if who.admin else who.id)
        return [r.to_json(questions=False) for r in runs]

    def eval_run(self, who: Principal, run_id: str) -> dict[str, Any]:
        run = self.kb.eval_runs.get(run_id)
        if not who.owns(run.principal):
            raise NotFound(f"no evaluation run {run_id!r}")
        return run.to_json()

    # -- managing documents (admins) --------------------------------------------------

    def ingest_paths(
        self,
        who: Principal,
        paths: Sequence[str],
        *,
        sync: bool = False,
        prefix: str = "",
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **options: Unpack[Selection],
    ) -> Job:
        """A job ingesting files and folders on the server's disk."""
        _admin(who)

        def work(job: Job) -> IngestReport:
            return self.kb.ingest(
                *paths,
                sync=sync,
                prefix=prefix,
                access=access,
                metadata=metadata,
                on_progress=job.on_file,
                on_embed=job.on_chunks,
                **options,
            )

        return self.jobs.submit("ingest", ", ".join(paths), work)

    def upload(
        self,
        who: Principal,
        filename: str,
        data: bytes,
        *,
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> JobView:
        """A job ingesting an uploaded file as document ``filename``; the file is kept under
        the knowledge base's ``uploads/`` so its source stays readable."""
        _admin(who)
        name = upload_name(filename)
        if self.queue_uploads:
            queue = self.kb.jobs
            return Queued(queue, queue.submit([(name, data)], access=access, metadata=metadata))

        def work(job: Job) -> IngestReport:
            return self.kb.ingest(
                save_upload(self.kb.path / UPLOADS_DIR, name, data),
                access=access,
                metadata=metadata,
                sidecars=False,
                on_progress=job.on_file,
                on_embed=job.on_chunks,
            )

        return self.jobs.submit("upload", name, work)

    def remove(self, who: Principal, doc_id: str) -> None:
        """Tombstone a document (a job, waited for: it takes milliseconds)."""
        _admin(who)
        job = self.jobs.submit("remove", doc_id, lambda _job: _report(self.kb.remove(doc_id)))
        job.wait(REMOVE_WAIT_S)
        if job.failure is not None:
            raise job.failure  # NotFound for a document that is not live, as before

    def reindex(self, who: Principal) -> Job:
        _admin(who)

        def work(job: Job) -> None:
            self.kb.reindex(on_embed=job.on_chunks)

        return self.jobs.submit("reindex", "rebuild the index from the catalog", work)

    def watch(self, directory: str, **options: Unpack[Selection]) -> Job:
        """A job mirroring ``directory``, then following it until the job is cancelled (or
        the server stops): each batch of changes is published to readers as it comes."""

        def work(job: Job) -> None:
            def progress(_outcome: Outcome, _done: int, _total: int) -> None:
                job.update(files_done=job.files_done + 1)

            self.kb.ingest(directory, sync=True, on_progress=job.on_file, **options)
            self.kb.watch(
                directory, stop_event=job.cancel_requested, on_progress=progress, **options
            )

        return self.jobs.submit("watch", directory, work)

    def job(self, who: Principal, job_id: str) -> JobView:
        """A job of this process, or of the catalog's queue."""
        _admin(who)
        try:
            return self.jobs.get(job_id)
        except NotFound:
            if not self.queue_uploads:
                raise
        self.kb.jobs.get(job_id)  # NotFound
        return Queued(self.kb.jobs, job_id)

    def all_jobs(self, who: Principal) -> list[JobView]:
        """This process's jobs, then the queue's (oldest first)."""
        _admin(who)
        views: list[JobView] = list(self.jobs.all())
        if self.queue_uploads:
            queued = reversed(self.kb.jobs.all())
            views += [Queued(self.kb.jobs, j.job_id) for j in queued]
        return views

    def cancel(self, who: Principal, job_id: str) -> JobView:
        """Cancel a job; one of the catalog's queue only before a worker takes it."""
        _admin(who)
        job = self.job(who, job_id)
        if isinstance(job, Job):
            return self.jobs.cancel(job_id)
        if not self.kb.jobs.cancel(job_id) and job.status()["state"] == "running":
            raise InvalidInput(f"job {job_id} is running on a worker: it runs to its end")
        return job

    def check(self, who: Principal) -> list[str]:
        _admin(who)
        return self.kb.check()

    def stats(self) -> dict[str, int]:
        docs = self.kb.documents()
        return {"documents": len(docs), "chunks": sum(d.n_chunks for d in docs)}

    def counts(self, who: Principal) -> dict[str, int]:
        """Documents, removed ones, versions and chunks (all of them: an admin's figures)."""
        _admin(who)
        return self.kb.catalog.counts()


REMOVE_WAIT_S = 60.0


def _report(outcome: Outcome) -> IngestReport:
    return IngestReport([outcome])


def _admin(who: Principal) -> None:
    if not who.admin:
        raise Forbidden("only an admin key may change documents")


def _tags(d: DocumentInfo) -> list[str]:
    """A document's metadata ``tags`` (one string or a list), as a list."""
    found = d.metadata.get("tags")
    if isinstance(found, str):
        return [found]
    return [str(t) for t in found] if isinstance(found, list) else []


def _document_json(d: DocumentInfo, who: Principal) -> dict[str, Any]:
    data = asdict(d)
    if not who.admin:  # where the server keeps its files is not a reader's business
        data["source_uri"] = None
    return data


def _version_json(v: VersionInfo, who: Principal) -> dict[str, Any]:
    data = asdict(v)
    data.pop("text")
    data["current"] = v.current
    if not who.admin:
        data["source_uri"] = None
    return data


def search_json(r: SearchResult) -> dict[str, Any]:
    return asdict(r) | {"section": list(r.section)}
