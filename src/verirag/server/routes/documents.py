"""Documents: list, read (versions, text, diff), upload, ingest from the server's disk,
remove."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile

from verirag.access import Principal
from verirag.errors import InvalidInput
from verirag.ingest import IngestReport
from verirag.server.auth import Auth
from verirag.server.schemas import (
    DiffOut,
    DocumentDetail,
    DocumentOut,
    IngestOut,
    IngestRequest,
    VersionText,
)
from verirag.server.service import Service


def router(service: Service, auth: Auth) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["documents"])
    Who = Annotated[Principal, Depends(auth.principal)]
    Admin = Annotated[Principal, Depends(auth.admin)]

    @api.get("/documents", response_model=list[DocumentOut])
    def documents(who: Who) -> list[dict[str, Any]]:
        return service.documents(who)

    @api.post("/documents", status_code=201, response_model=IngestOut)
    def upload(
        who: Admin,
        file: Annotated[UploadFile, File(description="the document")],
        access: Annotated[list[str] | None, Form()] = None,
        metadata: Annotated[str | None, Form(description="a JSON object")] = None,
    ) -> dict[str, Any]:
        meta = _json_object(metadata, "metadata") if metadata else None
        report = service.upload(
            who, file.filename or "", file.file.read(), access=access or None, metadata=meta
        )
        return report_json(report)

    @api.post("/ingest", response_model=IngestOut)
    def ingest(who: Admin, body: IngestRequest) -> dict[str, Any]:
        report = service.ingest_paths(
            who,
            body.paths,
            sync=body.sync,
            prefix=body.prefix,
            access=body.access,
            metadata=body.metadata,
        )
        return report_json(report)

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


def report_json(report: IngestReport) -> dict[str, Any]:
    """Each file's outcome (new, changed, unchanged, removed, failed with its reason)."""
    return {
        "outcomes": [
            {
                "doc_id": o.doc_id,
                "status": o.status.value,
                "version": o.version,
                "chunks": o.n_chunks,
                "reason": o.reason,
            }
            for o in report.outcomes
        ],
        "counts": {status.value: n for status, n in report.counts().items()},
    }
