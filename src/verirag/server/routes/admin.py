"""Health, the caller's identity, the audit trail, API keys and Prometheus metrics."""

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response

from verirag.access import Principal
from verirag.server.auth import Auth
from verirag.server.metrics import CONTENT_TYPE, Metrics
from verirag.server.schemas import (
    AuditOut,
    FeedbackIn,
    FeedbackOut,
    Health,
    KeyCreated,
    KeyRequest,
    WhoAmI,
)
from verirag.server.service import Service
from verirag.store import KeyInfo


def router(service: Service, auth: Auth, metrics: Metrics) -> APIRouter:
    api = APIRouter(tags=["admin"])
    Who = Annotated[Principal, Depends(auth.principal)]
    Admin = Annotated[Principal, Depends(auth.admin)]

    @api.get("/api/health", response_model=Health)
    def health() -> dict[str, Any]:
        return {"status": "ok", "keys_required": auth.keyed}

    @api.get("/api/whoami", response_model=WhoAmI)
    def whoami(who: Who) -> dict[str, Any]:
        return {"id": who.id, "name": who.name, "groups": who.groups, "admin": who.admin}

    @api.get("/api/audit", response_model=list[AuditOut])
    def audit(
        who: Who,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        rated: Annotated[bool, Query(description="only answers with feedback")] = False,
    ) -> list[dict[str, Any]]:
        """Answers newest first (yours; an admin: everyone's), a page at a time."""
        return [r.to_json() for r in service.answers(who, limit, offset=offset, rated=rated)]

    @api.get("/api/audit/{answer_id}", response_model=AuditOut)
    def audit_one(who: Who, answer_id: str) -> dict[str, Any]:
        return service.answer(who, answer_id).to_json()

    @api.post("/api/audit/{answer_id}/feedback", status_code=201, response_model=FeedbackOut)
    def feedback(who: Who, answer_id: str, body: FeedbackIn) -> dict[str, Any]:
        """Say whether an answer helped (and why): kept with its audit record, one word per
        principal (a new one replaces the last)."""
        given = service.give_feedback(who, answer_id, helpful=body.helpful, comment=body.comment)
        return dataclasses.asdict(given)

    @api.get("/api/keys", response_model=list[KeyInfo])
    def list_keys(who: Admin) -> list[dict[str, Any]]:
        return [dataclasses.asdict(k) for k in auth.keys.all()]

    @api.post("/api/keys", status_code=201, response_model=KeyCreated)
    def create_key(who: Admin, body: KeyRequest) -> dict[str, Any]:
        return {"key": auth.create_key(body.name, body.groups, admin=body.admin), "name": body.name}

    @api.delete("/api/keys/{key_id}", status_code=204)
    def revoke_key(who: Admin, key_id: str) -> None:
        auth.keys.revoke(key_id)  # a keyed server stays keyed: revoking never opens it

    @api.get("/metrics", response_class=PlainTextResponse)
    def prometheus(who: Admin) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return api
