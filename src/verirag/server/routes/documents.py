"""Documents: list, read (versions, text, diff), upload, ingest from the server's disk,
remove."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile

from verirag.access import Principal
from verirag.errors import InvalidInput
from verirag.server.auth import Auth
from verirag.server.jobs import JobView
from verirag.server.schemas import (
    DiffOut,
    DocumentDetail,
    DocumentOut,
    Facets,
    IngestRequest,
    JobOut,
    VersionText,
)
from verirag.server.service import Service


def router(service: Service, auth: Auth) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["documents"])
    Who = Annotated[Principal, Depends(auth.principal)]
    Admin = Annotated[Principal, Depends(auth.admin)]

    @api.get("/documents", response_model=list[DocumentOut])
    def documents(
        who: Who,
        response: Response,
        removed: bool = False,
        q: Annotated[str, Query(max_length=200, description="in the id or title")] = "",
        access: Annotated[str | None, Query(description="readable by this group")] = None,
        tag: Annotated[str | None, Query(description="metadata tags hold it")] = None,
        format: Annotated[str | None, Query(description="markdown, pdf, html, ...")] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int | None, Query(ge=1, le=1000, description="default: all")] = None,
    ) -> list[dict[str, Any]]:
        """The documents the caller may read, by id (an admin: with ``removed``, tombstoned
        ones), narrowed by the filters given, a page at a time; ``X-Total-Count`` says how
        many match."""
        found = service.documents(who, removed=removed, text=q, group=access, tag=tag, fmt=format)
        response.headers["X-Total-Count"] = str(len(found))
        return found[offset : None if limit is None else offset + limit]

    @api.get("/facets", response_model=Facets)
    def facets(who: Who) -> dict[str, dict[str, int]]:
        """How many readable documents have each format, access group and tag."""
        return service.facets(who)

    @api.post("/documents", status_code=202, response_model=JobOut)
    def upload(
        who: Admin,
        file: Annotated[UploadFile, File(description="the document")],
        wait: Wait = 0,
        access: Annotated[list[str] | None, Form()] = None,
        metadata: Annotated[str | None, Form(description="a JSON object")] = None,
    ) -> dict[str, Any]:
        """Ingest an uploaded file: a job, reported at once (or once done, within ``wait``
        seconds)."""
        meta = _json_object(metadata, "metadata") if metadata else None
        job = service.upload(
            who, file.filename or "", file.file.read(), access=access or None, metadata=meta
        )
        return waited(job, wait)

    @api.post("/ingest", status_code=202, response_model=JobOut)
    def ingest(who: Admin, body: IngestRequest, wait: Wait = 0) -> dict[str, Any]:
        """Ingest files and folders on the server's disk: a job (see ``/api/jobs``)."""
        job = service.ingest_paths(
            who,
            body.paths,
            sync=body.sync,
            prefix=body.prefix,
            access=body.access,
            metadata=body.metadata,
            exclude=body.exclude,
            include_all=body.include_all,
        )
        return waited(job, wait)

    @api.get("/documents/{doc_id:path}/versions/{version:int}", response_model=VersionText)
    def version(who: Who, doc_id: str, version: int) -> dict[str, Any]:
        return service.version(who, doc_id, version)

    @api.get("/documents/{doc_id:path}/diff", response_model=DiffOut)
    def diff(who: Who, doc_id: str, old: int, new: int) -> dict[str, Any]:
        return {
            "doc_id": doc_id,
            "old": old,
            "new": new,
            "diff": service.diff(who, doc_id, old, new),
        }

    @api.get("/documents/{doc_id:path}", response_model=DocumentDetail)
    def document(who: Who, doc_id: str) -> dict[str, Any]:
        return service.document(who, doc_id)

    @api.delete("/documents/{doc_id:path}", status_code=204)
    def remove(who: Admin, doc_id: str) -> None:
        service.remove(who, doc_id)

    return api


def _json_object(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{field} is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be a JSON object, not {type(value).__name__}")
    return value


MAX_WAIT_S = 600.0
# Seconds to hold the response for the job to end (0: answer at once).
Wait = Annotated[float, Query(ge=0, le=MAX_WAIT_S, description="seconds to wait for the end")]


def waited(job: JobView, wait: float) -> dict[str, Any]:
    """A job's status, once it has ended or ``wait`` seconds have passed."""
    if wait:
        job.wait(wait)
    return job.status()
