"""Background jobs (admins): list, follow (status, long-poll, server-sent events), cancel;
and the maintenance that runs as one: re-indexing. The integrity check reads only."""

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from verirag.access import Principal
from verirag.server.auth import Auth
from verirag.server.jobs import FINAL, JobView, State
from verirag.server.routes.documents import Wait, waited
from verirag.server.schemas import CheckOut, JobOut
from verirag.server.service import Service

HEARTBEAT_S = 15.0  # a comment line on a quiet stream keeps proxies from closing it

_EVENTS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
        "description": "`progress` events with the job's status, then one `end` event",
    }
}


def router(service: Service, auth: Auth) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["jobs"])
    Admin = Annotated[Principal, Depends(auth.admin)]

    @api.get("/jobs", response_model=list[JobOut])
    def jobs(who: Admin) -> list[dict[str, Any]]:
        """Recent jobs, oldest first."""
        return [j.status() for j in service.all_jobs(who)]

    @api.get("/jobs/{job_id}", response_model=JobOut)
    def job(who: Admin, job_id: str, wait: Wait = 0) -> dict[str, Any]:
        """A job's status, at once or once it has ended (within ``wait`` seconds)."""
        return waited(service.job(who, job_id), wait)

    @api.get("/jobs/{job_id}/events", response_class=StreamingResponse, responses=_EVENTS)
    def events(who: Admin, job_id: str) -> StreamingResponse:
        """``progress`` events as the job changes, in order, then one ``end`` event."""
        return StreamingResponse(
            _events(service.job(who, job_id)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    @api.delete("/jobs/{job_id}", response_model=JobOut)
    def cancel(who: Admin, job_id: str) -> dict[str, Any]:
        """Cancel a job: what it committed stays, it stops before its next document."""
        return service.cancel(who, job_id).status()

    @api.post("/reindex", status_code=202, response_model=JobOut)
    def reindex(who: Admin, wait: Wait = 0) -> dict[str, Any]:
        """Rebuild the index from the catalog (vectors come from the embedding cache)."""
        return waited(service.reindex(who), wait)

    @api.get("/check", response_model=CheckOut)
    def check(who: Admin) -> dict[str, Any]:
        """Catalog integrity problems (none when every document is whole), and its counts."""
        return {"problems": service.check(who), "counts": service.counts(who)}

    return api


def _events(job: JobView) -> Iterator[str]:
    seen = -1
    while True:
        seq = job.next_change(seen, HEARTBEAT_S)
        if seq == seen:
            yield ": still running\n\n"
            continue
        seen = seq
        status = job.status()
        final = State(status["state"]) in FINAL
        yield f"event: {'end' if final else 'progress'}\ndata: {json.dumps(status)}\n\n"
        if final:
            return
