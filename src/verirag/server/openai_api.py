"""``/v1/models`` and ``/v1/chat/completions``: the knowledge base as a chat model, so
existing OpenAI clients work unchanged. The last user message is the question; the reply is
the checked answer with its sources listed, and the sources again as ``citations``.

Streaming sends the checked answer, not the model's draft: a chat client cannot take back
text it has shown, and a sentence the check rejects must never reach it as fact."""

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from verirag.access import Principal
from verirag.generation import Answer
from verirag.server.metrics import Metrics
from verirag.server.service import Service

MODEL = "verirag"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens...: not ours to tune
    model: str = MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class ModelCard(BaseModel):
    id: str
    object: str
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: str
    data: list[ModelCard]


class ChatCompletion(BaseModel):
    """OpenAI's chat completion, with the answer's citations and verirag's own fields."""

    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, int]
    citations: list[dict[str, Any]]
    verirag: dict[str, Any] = Field(description="answer_id and whether it abstained")


_COMPLETION = {
    200: {
        "model": ChatCompletion,
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
        "description": "a chat completion; with `stream`, chat.completion.chunk events",
    }
}


def _text(message: ChatMessage) -> str:
    if isinstance(message.content, list):
        return " ".join(p.get("text", "") for p in message.content if p.get("type") == "text")
    return message.content or ""


def reply_text(answer: Answer) -> str:
    """The answer and, unless it abstained, its sources by label."""
    if answer.abstained or not answer.cited:
        return answer.text
    return answer.text + "\n\nSources:\n" + "\n".join(s.label() for s in answer.cited)


def citations(answer: Answer) -> list[dict[str, Any]]:
    return list(answer.to_json()["sources"])


def router(service: Service, metrics: Metrics, principal: Callable[..., Principal]) -> APIRouter:
    api = APIRouter(prefix="/v1")
    Who = Annotated[Principal, Depends(principal)]

    @api.get("/models", response_model=ModelList)
    def models(who: Who) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "verirag"}],
        }

    # The body is a ChatCompletion or an event stream: documented in ``responses``.
    @api.post("/chat/completions", response_model=None, responses=_COMPLETION)  # type: ignore[arg-type]
    def chat(who: Who, body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        questions = [_text(m) for m in body.messages if m.role == "user"]
        if not questions or not questions[-1].strip():
            raise ValueError("no user message to answer")
        answer = service.ask(who, questions[-1])
        metrics.observe_stages(answer.timings)
        metrics.answers.labels(str(answer.abstained).lower()).inc()
        made = int(time.time())
        cid = f"chatcmpl-{answer.answer_id}"
        if body.stream:
            return StreamingResponse(_chunks(cid, made, answer), media_type="text/event-stream")
        return {
            "id": cid,
            "object": "chat.completion",
            "created": made,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": reply_text(answer),
                        "citations": citations(answer),
                    },
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": answer.tokens_in,
                "completion_tokens": answer.tokens_out,
                "total_tokens": answer.tokens_in + answer.tokens_out,
            },
            "citations": citations(answer),
            "verirag": {"answer_id": answer.answer_id, "abstained": answer.abstained},
        }

    return api


def _chunks(cid: str, made: int, answer: Answer) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": made,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    # A few words at a time, so a client shows progress the way it does for a model; the
    # pieces join back to exactly the non-streamed reply.
    words = re.findall(r"\s*\S+\s*", reply_text(answer))
    for start in range(0, len(words), 8):
        yield chunk({"content": "".join(words[start : start + 8])})
    yield chunk({}, "stop", citations=citations(answer))
    yield "data: [DONE]\n\n"
