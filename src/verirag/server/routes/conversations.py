"""Conversations: threads of questions a principal keeps; ``POST /api/ask`` with a
``conversation_id`` adds a turn, its follow-up made standalone from the earlier ones."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from verirag.access import Principal
from verirag.server.auth import Auth
from verirag.server.schemas import ConversationIn, ConversationOut, ConversationSummary
from verirag.server.service import Service


def router(service: Service, auth: Auth) -> APIRouter:
    api = APIRouter(prefix="/api/conversations", tags=["conversations"])
    Who = Annotated[Principal, Depends(auth.principal)]

    @api.post("", status_code=201, response_model=ConversationOut)
    def start(who: Who, body: ConversationIn) -> dict[str, Any]:
        return service.start_conversation(who, body.title).to_json()

    @api.get("", response_model=list[ConversationSummary])
    def listed(who: Who, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
        return [c.to_json(turns=False) for c in service.conversations(who, limit)]

    @api.get("/{conversation_id}", response_model=ConversationOut)
    def one(who: Who, conversation_id: str) -> dict[str, Any]:
        return service.conversation(who, conversation_id).to_json()

    @api.delete("/{conversation_id}", status_code=204, response_class=Response)
    def remove(who: Who, conversation_id: str) -> Response:
        service.delete_conversation(who, conversation_id)
        return Response(status_code=204)

    return api
