"""A knowledge base another process serves, reached through that server's API: what the CLI
and ``verirag mcp`` use when a running ``verirag serve`` owns the directory. It answers as
:class:`verirag.KnowledgeBase` does (the same methods and records), as the local owner, whose
credential the server left in the knowledge base for its owner alone to read."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import TypeAdapter

from verirag.errors import Forbidden, InvalidInput, NotFound, VeriragError
from verirag.generation import Answer, GenerationError
from verirag.index import EmbedProgress
from verirag.ingest import IngestReport, Outcome, Progress, Status
from verirag.owner import ServerInfo, holder, read_server
from verirag.retrieval import SearchOptions, SearchResult
from verirag.store import (
    AsOf,
    AuditRecord,
    DocumentInfo,
    Feedback,
    KeyInfo,
    StoredChunk,
    StoredRun,
    VersionInfo,
    write_jsonl,
)

if TYPE_CHECKING:
    from verirag.evaluation.qa import QA

GROUPS_HEADER = "X-Verirag-Groups"  # the owner reading as a principal of these groups
EVAL_MAX_QUESTIONS = 1000  # what POST /api/eval/qa accepts in one request
TIMEOUT_S = 600.0  # an answer from a slow local model takes minutes
POLL_S = 0.5

T = TypeVar("T")

# One line per request would drown an MCP client's stderr.
logging.getLogger("httpx").setLevel(logging.WARNING)


class ServerError(VeriragError):
    """The server failed a request, or does not answer."""


def connect(directory: Path) -> Remote | None:
    """The server that owns ``directory``, or ``None`` when no server left its address."""
    info = read_server(directory)
    return Remote(directory, info) if info is not None else None


@functools.cache
def _adapter(kind: type[Any]) -> tuple[TypeAdapter[Any], frozenset[str]]:
    """Built once per record type: an adapter is costly to make, and a search makes many."""
    return TypeAdapter(kind), frozenset(f.name for f in dataclasses.fields(kind))


def _record(kind: type[T], data: dict[str, Any]) -> T:
    """A store or retrieval record from its JSON form (extra keys left out)."""
    adapter, names = _adapter(kind)  # type: ignore[arg-type]
    record: T = adapter.validate_python({k: v for k, v in data.items() if k in names})
    return record


class Remote:
    """The knowledge base at ``directory``, served at ``info.url``."""

    def __init__(
        self, directory: Path, info: ServerInfo, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.path = directory
        self.info = info
        self.http = httpx.Client(
            base_url=info.url,
            headers={"Authorization": f"Bearer {info.token}"},
            timeout=TIMEOUT_S,
            transport=transport,
        )
        self.catalog = _Catalog(self)
        self.audit = _Audit(self)
        self.keys = _Keys(self)

    # -- transport --------------------------------------------------------------------

    def request(
        self, method: str, url: str, *, groups: Sequence[str] | None = None, **kwargs: Any
    ) -> Any:
        """The JSON body of a call; the server's refusals as this package's errors."""
        headers = {GROUPS_HEADER: ",".join(groups)} if groups is not None else {}
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ServerError(
                f"the server that owns {self.path} ({self.info.url}, {holder(self.path)}) "
                f"does not answer: {exc}"
            ) from None
        if response.is_success:
            return response.json() if response.content else None
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        if not isinstance(detail, str):
            detail = json.dumps(detail)
        error = {
            404: NotFound,
            422: InvalidInput,
            400: ValueError,
            403: Forbidden,
            502: GenerationError,
        }.get(response.status_code)
        if error is not None:
            raise error(detail)
        raise ServerError(f"the server answered {response.status_code}: {detail}")

    # -- reads ------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        options: SearchOptions | None = None,
        as_of: AsOf | None = None,
        groups: Sequence[str] | None = None,
        doc_ids: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> list[SearchResult]:
        body = {
            "query": query,
            "k": k,
            "as_of": _when(as_of),
            "filters": metadata,
            "doc_ids": doc_ids,
            "mode": (options or SearchOptions()).mode.value,
        }
        found = self.request("POST", "/api/search", json=body, groups=groups)
        return [_record(SearchResult, r) for r in found["results"]]

    def ask(
        self,
        question: str,
        *,
        k: int = 8,
        llm: str | None = None,
        schema: dict[str, Any] | None = None,
        as_of: AsOf | None = None,
        groups: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        history: Sequence[str] = (),
    ) -> Answer:
        body = {
            "question": question,
            "k": k,
            "as_of": _when(as_of),
            "filters": metadata,
            "llm": llm,
            "schema": schema,
            "history": list(history),
        }
        return Answer.from_json(self.request("POST", "/api/ask", json=body, groups=groups))

    def documents(self, *, include_removed: bool = False) -> list[DocumentInfo]:
        found = self.request("GET", "/api/documents", params={"removed": include_removed})
        return [_record(DocumentInfo, d) for d in found]

    def history(self, doc_id: str, *, groups: Sequence[str] | None = None) -> list[VersionInfo]:
        found = self.request("GET", f"/api/documents/{doc_id}", groups=groups)
        return [_record(VersionInfo, v) for v in found["versions"]]

    def version(self, doc_id: str, version: int | None = None) -> VersionInfo:
        return _record(VersionInfo, self.version_json(doc_id, version))

    def chunks(self, doc_id: str, version: int | None = None) -> list[StoredChunk]:
        found = self.version_json(doc_id, version)
        return [_record(StoredChunk, c) for c in found["chunks"]]

    def version_json(
        self, doc_id: str, version: int | None = None, *, groups: Sequence[str] | None = None
    ) -> Any:
        """A version as the API gives it: text and chunks (the current one by default)."""
        if version is None:
            versions = self.history(doc_id, groups=groups)
            current = [v.version for v in versions if v.current]
            version = current[-1] if current else versions[-1].version
        return self.request("GET", f"/api/documents/{doc_id}/versions/{version}", groups=groups)

    def diff(self, doc_id: str, old: int, new: int) -> list[str]:
        found = self.request(
            "GET", f"/api/documents/{doc_id}/diff", params={"old": old, "new": new}
        )
        return list(found["diff"])

    def check(self) -> list[str]:
        return list(self.request("GET", "/api/check")["problems"])

    def evaluate_qa(
        self, items: Sequence[QA], *, k: int = 8, groups: Sequence[str] | None = None
    ) -> StoredRun:
        """Score questions on the server, as this principal, and keep the run there."""
        if len(items) > EVAL_MAX_QUESTIONS:
            raise InvalidInput(
                f"through a server, eval qa takes at most {EVAL_MAX_QUESTIONS} questions a run"
            )
        body = {"questions": [dataclasses.asdict(item) for item in items], "k": k}
        return _record(StoredRun, self.request("POST", "/api/eval/qa", json=body, groups=groups))

    # -- writes: jobs on the server's writer, followed until they end -----------------

    def ingest(
        self,
        *paths: str | Path,
        sync: bool = False,
        prefix: str = "",
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        on_progress: Progress | None = None,
        on_embed: EmbedProgress | None = None,
        follow_symlinks: bool = False,
        exclude: Sequence[str] = (),
        include_all: bool = False,
    ) -> IngestReport:
        """Files and folders, read by the server (paths made absolute here)."""
        if follow_symlinks:
            raise InvalidInput("--follow-symlinks is not available through a server")
        body = {
            "paths": [str(Path(p).absolute()) for p in paths],
            "sync": sync,
            "prefix": prefix,
            "access": list(access) if access is not None else None,
            "metadata": metadata,
            "exclude": list(exclude),
            "include_all": include_all,
        }
        job = self.request("POST", "/api/ingest", json=body)
        return _report(self.follow(job["job_id"], on_progress, on_embed))

    def reindex(self, on_embed: EmbedProgress | None = None) -> int:
        job = self.follow(self.request("POST", "/api/reindex")["job_id"], None, on_embed)
        return int(job["chunks_done"])

    def watch(self, directory: str | Path, **_: Any) -> None:
        raise InvalidInput(
            f"{self.path} is served by {holder(self.path)}: follow the folder with "
            "`verirag serve --watch DIR` instead"
        )

    def follow(
        self, job_id: str, on_progress: Progress | None, on_embed: EmbedProgress | None
    ) -> dict[str, Any]:
        """Poll a job until it ends, handing its progress on; Ctrl-C cancels it."""
        done = -1
        try:
            while True:
                job = self.request("GET", f"/api/jobs/{job_id}", params={"wait": POLL_S})
                if on_progress is not None and job["files_done"] != done:
                    done = job["files_done"]
                    step = Outcome(job["description"], Status.UNCHANGED, "")
                    on_progress(step, done, job["files_total"] or done)
                if on_embed is not None and job["chunks_total"]:
                    on_embed(job["chunks_done"], job["chunks_total"])
                if job["state"] in ("done", "failed", "cancelled"):
                    break
        except KeyboardInterrupt:
            self.request("DELETE", f"/api/jobs/{job_id}")
            raise
        if job["state"] == "failed":
            raise ServerError(f"the job failed: {job['error']}")
        if job["state"] == "cancelled":
            raise ServerError("the job was cancelled")
        return dict(job)

    # -- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _when(as_of: AsOf | None) -> str | float | None:
    if isinstance(as_of, datetime):
        return as_of.isoformat()
    return as_of


def _report(job: dict[str, Any]) -> IngestReport:
    report = IngestReport()
    for o in (job.get("report") or {}).get("outcomes", []):
        report.outcomes.append(
            Outcome(
                o["doc_id"],
                Status(o["status"]),
                "",
                version=o["version"],
                n_chunks=o["chunks"],
                reason=o["reason"],
            )
        )
    return report


class _Catalog:
    def __init__(self, remote: Remote) -> None:
        self._remote = remote

    def counts(self) -> dict[str, int]:
        return dict(self._remote.request("GET", "/api/check")["counts"])


class _Audit:
    def __init__(self, remote: Remote) -> None:
        self._remote = remote

    def get(self, answer_id: str) -> AuditRecord:
        return _audit(self._remote.request("GET", f"/api/audit/{answer_id}"))

    def records(
        self,
        *,
        limit: int | None = None,
        offset: int = 0,
        since: float | None = None,
        rated: bool = False,
    ) -> Iterator[AuditRecord]:
        params: dict[str, Any] = {"limit": limit or 1000, "offset": offset, "rated": rated}
        for data in self._remote.request("GET", "/api/audit", params=params):
            record = _audit(data)
            if since is None or record.created_at >= since:
                yield record

    def export(self, path: Path, *, rated: bool = False) -> int:
        return write_jsonl(self.records(rated=rated), path)


def _audit(data: dict[str, Any]) -> AuditRecord:
    head = {f.name for f in dataclasses.fields(AuditRecord)} - {"trace", "feedback"}
    return AuditRecord(
        **{k: data[k] for k in head},
        trace={k: v for k, v in data.items() if k not in head | {"feedback"}},
        feedback=tuple(Feedback(**f) for f in data.get("feedback", [])),
    )


class _Keys:
    def __init__(self, remote: Remote) -> None:
        self._remote = remote

    def active(self) -> bool:
        return any(k.revoked_at is None for k in self.all())

    def all(self) -> list[KeyInfo]:
        return [_record(KeyInfo, k) for k in self._remote.request("GET", "/api/keys")]

    def create(self, name: str, groups: Sequence[str] = (), *, admin: bool = False) -> str:
        body = {"name": name, "groups": list(groups), "admin": admin}
        return str(self._remote.request("POST", "/api/keys", json=body)["key"])

    def revoke(self, key_id: str) -> None:
        self._remote.request("DELETE", f"/api/keys/{key_id}")
