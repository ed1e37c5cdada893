"""What the HTTP API, the OpenAI-compatible endpoint and the MCP tools do, once, for a
principal: every read is filtered by the principal's access groups (searches inside the index
query, listings and look-ups here), and what a principal may not read answers as missing."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from verirag.access import Principal
from verirag.errors import Forbidden, NotFound
from verirag.evaluation.qa import QA, evaluate
from verirag.generation import Answer, TokenSink
from verirag.ingest import MAX_NAME_BYTES, SIDECAR_SUFFIX, IngestReport, is_sidecar
from verirag.kb import KnowledgeBase
from verirag.retrieval import SearchResult
from verirag.store import AsOf, AuditRecord, DocumentInfo, VersionInfo

UPLOADS = "uploads"


class Service:
    """One knowledge base behind a lock: the catalog, the index and the models are used by
    one request at a time, which keeps them consistent without making each of them
    thread-safe."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._lock = threading.RLock()

    @contextmanager
    def locked(self) -> Iterator[KnowledgeBase]:
        with self._lock:
            yield self.kb

    # -- documents --------------------------------------------------------------------

    def documents(self, who: Principal) -> list[dict[str, Any]]:
        with self.locked() as kb:
            docs = kb.documents(groups=who.groups)
        return [_document_json(d, who) for d in docs]

    def document(self, who: Principal, doc_id: str) -> dict[str, Any]:
        """A document and the versions of it the principal may read."""
        with self.locked() as kb:
            versions = kb.history(doc_id, groups=who.groups)  # KeyError: missing or forbidden
            (doc,) = kb.documents(include_removed=True, doc_ids=[doc_id])
        return {
            **_document_json(doc, who),
            "versions": [_version_json(v, who) for v in versions],
        }

    def version(self, who: Principal, doc_id: str, version: int | None = None) -> dict[str, Any]:
        """A version's text and chunk spans (the current version by default)."""
        with self.locked() as kb:
            v = kb.version(doc_id, version, groups=who.groups)
            chunks = kb.chunks(doc_id, v.version, groups=who.groups) if not v.tombstone else []
        return {
            **_version_json(v, who),
            "text": v.text,
            "chunks": [
                {
                    "chunk_id": c.chunk_id,
                    "ordinal": c.ordinal,
                    "char_start": c.char_start,
                    "char_end": c.char_end,
                    "section": list(c.section),
                }
                for c in chunks
            ],
        }

    def diff(self, who: Principal, doc_id: str, old: int, new: int) -> list[str]:
        with self.locked() as kb:
            return kb.diff(doc_id, old, new, groups=who.groups)

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
    ) -> list[SearchResult]:
        with self.locked() as kb:
            return kb.search(
                query, k=k, as_of=as_of, groups=who.groups, metadata=metadata, doc_ids=doc_ids
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
    ) -> Answer:
        with self.locked() as kb:
            return kb.ask(
                question,
                k=k,
                as_of=as_of,
                groups=who.groups,
                principal=who.id,
                metadata=metadata,
                llm=llm,
                schema=schema,
                on_token=on_token,
            )

    def answers(self, who: Principal, limit: int = 50) -> list[AuditRecord]:
        """Recent answers: all of them for an admin, a principal's own otherwise."""
        with self.locked() as kb:
            return list(kb.audit.records(limit=limit, principal=None if who.admin else who.id))

    def answer(self, who: Principal, answer_id: str) -> AuditRecord:
        with self.locked() as kb:
            record = kb.audit.get(answer_id)
        if not who.owns(record.principal):
            raise NotFound(f"no answer {answer_id!r} in the audit trail")
        return record

    # -- evaluation runs --------------------------------------------------------------

    def evaluate(self, who: Principal, items: Sequence[QA], *, k: int = 8) -> str:
        """Score the principal's questions as the principal (the same access filter), and
        store the run."""
        with self.locked() as kb:
            run = evaluate(kb, items, k=k, groups=who.groups, principal=who.id)
            return kb.eval_runs.add(run, principal=who.id)

    def eval_runs(self, who: Principal, limit: int = 50) -> list[dict[str, Any]]:
        """Recent runs without their per-question rows: all for an admin, own otherwise."""
        with self.locked() as kb:
            runs = kb.eval_runs.runs(limit=limit, principal=None if who.admin else who.id)
        return [r.to_json(questions=False) for r in runs]

    def eval_run(self, who: Principal, run_id: str) -> dict[str, Any]:
        with self.locked() as kb:
            run = kb.eval_runs.get(run_id)
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
    ) -> IngestReport:
        _admin(who)
        with self.locked() as kb:
            return kb.ingest(*paths, sync=sync, prefix=prefix, access=access, metadata=metadata)

    def upload(
        self,
        who: Principal,
        filename: str,
        data: bytes,
        *,
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> IngestReport:
        """Ingest an uploaded file as document ``filename``; the file is kept under the
        knowledge base's ``uploads/`` so its source stays readable."""
        _admin(who)
        name = Path(filename).name
        if not name or name.startswith("."):
            raise ValueError(f"not a usable file name: {filename!r}")
        if len(os.fsencode(name)) > MAX_NAME_BYTES:
            raise ValueError(f"file name longer than {MAX_NAME_BYTES} bytes")
        if is_sidecar(name):
            # The access given with an upload is what applies: a sidecar is read only from a
            # folder ingested from disk, never taken from an upload.
            raise ValueError(f"{SIDECAR_SUFFIX} files are read from ingested folders only")
        with self.locked() as kb:
            target = kb.path / UPLOADS / name
            target.parent.mkdir(exist_ok=True)
            # Written whole, then renamed: a failed upload never leaves half a file behind.
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
                handle.write(data)
            try:
                shutil.move(handle.name, target)
            except OSError:
                Path(handle.name).unlink(missing_ok=True)
                raise
            return kb.ingest(target, access=access, metadata=metadata, sidecars=False)

    def remove(self, who: Principal, doc_id: str) -> None:
        _admin(who)
        with self.locked() as kb:
            kb.remove(doc_id)

    def stats(self) -> dict[str, int]:
        with self.locked() as kb:
            docs = kb.documents()
        return {"documents": len(docs), "chunks": sum(d.n_chunks for d in docs)}


def _admin(who: Principal) -> None:
    if not who.admin:
        raise Forbidden("only an admin key may change documents")


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
