"""``/v1``: the knowledge base as an OpenAI model, so existing clients work unchanged.

- ``/v1/models``, ``/v1/models/{id}``: ``verirag`` (chat) and the embedder.
- ``/v1/chat/completions``: the last user message is the question; the earlier user messages
  are the conversation it is made standalone from. The reply is the checked answer with its
  sources listed, and the sources again as ``citations``.
- ``/v1/embeddings``: the knowledge base's embedder.

Errors are OpenAI's ``{"error": {"message", "type", "param", "code"}}`` (:func:`error_body`).
Answers are written at temperature 0, so they are reproducible and audited as given:
``temperature`` and ``top_p`` are accepted and have no effect; ``max_tokens`` and ``stop`` cut
the checked reply. ``tools``, ``n`` > 1 and a ``response_format`` other than text are refused.

Streaming sends the checked answer, not the model's draft: a chat client cannot take back
text it has shown, and a sentence the check rejects must never reach it as fact."""

import base64
import json
import re
import struct
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from verirag.access import Principal
from verirag.errors import InvalidInput, NotFound
from verirag.generation import Answer
from verirag.server.metrics import Metrics
from verirag.server.service import Service

MODEL = "verirag"
MAX_INPUTS = 2048  # OpenAI's own limit on inputs per embeddings request
MAX_INPUT_CHARS = 32_000

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


class OpenAIError(InvalidInput):
    """A request the OpenAI endpoint refuses, naming the parameter at fault."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class ModelNotFound(NotFound):
    """A model this server does not serve (404, ``model_not_found``)."""

    code = "model_not_found"


def error_body(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """An error as OpenAI's clients read it (``openai.APIStatusError.message``, ``.code``)."""
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    if code is None and status == 401:
        code = "invalid_api_key"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # user, seed, ...: accepted, no effect
    model: str = MODEL
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2, description="no effect: answers use 0")
    top_p: float | None = Field(None, ge=0, le=1, description="no effect")
    max_tokens: int | None = Field(None, ge=1, description="cut the reply after this many")
    max_completion_tokens: int | None = Field(None, ge=1, description="as max_tokens")
    stop: str | list[str] | None = Field(None, description="cut the reply at the first of these")
    n: int | None = Field(None, ge=1, description="1 only")
    tools: list[dict[str, Any]] | None = Field(None, description="refused: see /mcp/")
    response_format: dict[str, Any] | None = Field(None, description="text only")


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # user: accepted, no effect
    model: str = MODEL
    input: str | list[str] = Field(description="a text or up to 2048 texts")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, description="the embedder's own only")


class ModelCard(BaseModel):
    id: str
    object: str
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: str
    data: list[ModelCard]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int = 0
    total_tokens: int


class ChatCompletion(BaseModel):
    """OpenAI's chat completion, with the answer's citations and verirag's own fields."""

    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: Usage
    citations: list[dict[str, Any]]
    verirag: dict[str, Any] = Field(
        description="answer_id, whether it abstained, and the standalone question searched"
    )


class Embedding(BaseModel):
    object: str
    index: int
    embedding: list[float] | str


class EmbeddingList(BaseModel):
    object: str
    data: list[Embedding]
    model: str
    usage: Usage


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


def _refuse_unsupported(body: ChatRequest) -> None:
    if body.model != MODEL:
        raise ModelNotFound(
            f"The model '{body.model}' does not exist: this server answers as '{MODEL}'"
        )
    if body.tools:
        raise OpenAIError(
            "verirag does not call tools: it answers from the knowledge base. Its tools are "
            "served over MCP at /mcp/.",
            "tools",
        )
    if body.n not in (None, 1):
        raise OpenAIError("n must be 1: an answer is checked once and audited", "n")
    if body.response_format and body.response_format.get("type", "text") != "text":
        raise OpenAIError(
            "response_format must be text here; a JSON answer is POST /api/ask with a schema",
            "response_format",
        )
    if body.messages[-1].role != "user" or not _text(body.messages[-1]).strip():
        raise OpenAIError("the last message must be the user's question", "messages")


def cut(
    text: str, count: Callable[[str], int], max_tokens: int | None, stop: str | list[str] | None
) -> tuple[str, str]:
    """``text`` cut at the first ``stop`` string and after ``max_tokens`` tokens, with the
    finish reason (``stop`` or ``length``)."""
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    at = min((i for s in stops if s and (i := text.find(s)) >= 0), default=-1)
    if at >= 0:
        text = text[:at]
    if max_tokens is None or count(text) <= max_tokens:
        return text, "stop"
    words = re.findall(r"\s*\S+", text)
    low, high = 0, len(words)  # the most words whose tokens fit
    while low < high:
        mid = (low + high + 1) // 2
        if count("".join(words[:mid])) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return "".join(words[:low]), "length"


def router(service: Service, metrics: Metrics, principal: Callable[..., Principal]) -> APIRouter:
    api = APIRouter(prefix="/v1")
    Who = Annotated[Principal, Depends(principal)]

    def cards() -> list[dict[str, Any]]:
        return [
            {"id": name, "object": "model", "created": 0, "owned_by": "verirag"}
            for name in (MODEL, service.embedder_id())
        ]

    @api.get("/models", response_model=ModelList)
    def models(who: Who) -> dict[str, Any]:
        return {"object": "list", "data": cards()}

    @api.get("/models/{model_id}", response_model=ModelCard)
    def model(who: Who, model_id: str) -> dict[str, Any]:
        for card in cards():
            if card["id"] == model_id:
                return card
        raise ModelNotFound(f"The model '{model_id}' does not exist")

    # The body is a ChatCompletion or an event stream: documented in ``responses``.
    @api.post("/chat/completions", response_model=None, responses=_COMPLETION)  # type: ignore[arg-type]
    def chat(who: Who, body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        _refuse_unsupported(body)
        asked = [_text(m) for m in body.messages if m.role == "user"]
        answer = service.ask(who, asked[-1], history=[q for q in asked[:-1] if q.strip()])
        metrics.observe_stages(answer.timings)
        metrics.answers.labels(str(answer.abstained).lower()).inc()
        content, finish = cut(
            reply_text(answer),
            service.count_tokens,
            body.max_completion_tokens or body.max_tokens,
            body.stop,
        )
        usage = _usage(service, body, answer, content)
        made = int(time.time())
        cid = f"chatcmpl-{answer.answer_id}"
        extra = {
            "answer_id": answer.answer_id,
            "abstained": answer.abstained,
            "standalone_question": answer.standalone or answer.question,
            "rewrite": answer.rewrite or "as asked",
        }
        if body.stream:
            with_usage = body.stream_options is not None and body.stream_options.include_usage
            chunks = _chunks(
                cid, made, content, finish, citations(answer), usage if with_usage else None
            )
            return StreamingResponse(chunks, media_type="text/event-stream")
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
                        "content": content,
                        "citations": citations(answer),
                    },
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
            "citations": citations(answer),
            "verirag": extra,
        }

    @api.post("/embeddings", response_model=EmbeddingList)
    def embeddings(who: Who, body: EmbeddingRequest) -> dict[str, Any]:
        if body.model not in (MODEL, service.embedder_id()):
            raise ModelNotFound(
                f"The model '{body.model}' does not exist: embed with '{service.embedder_id()}'"
            )
        texts = [body.input] if isinstance(body.input, str) else body.input
        if not texts or len(texts) > MAX_INPUTS:
            raise OpenAIError(f"input must hold 1 to {MAX_INPUTS} texts", "input")
        if any(not t or len(t) > MAX_INPUT_CHARS for t in texts):
            raise OpenAIError(f"each input must be 1 to {MAX_INPUT_CHARS} characters", "input")
        vectors, tokens = service.embed(who, texts)
        if body.dimensions is not None and body.dimensions != len(vectors[0]):
            raise OpenAIError(
                f"{service.embedder_id()} gives {len(vectors[0])} dimensions only", "dimensions"
            )
        data = [
            {"object": "embedding", "index": i, "embedding": _encoded(v, body.encoding_format)}
            for i, v in enumerate(vectors)
        ]
        return {
            "object": "list",
            "data": data,
            "model": service.embedder_id(),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    return api


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def _usage(service: Service, body: ChatRequest, answer: Answer, content: str) -> dict[str, int]:
    """The model's own token counts; without a model (the extractive generator), the
    messages and the passages read, and the reply, in the embedder's tokens."""
    if answer.tokens_in or answer.tokens_out:
        prompt, completion = answer.tokens_in, answer.tokens_out
    else:
        read = [_text(m) for m in body.messages] + [s.text for s in answer.sources]
        prompt = sum(service.count_tokens(t) for t in read if t)
        completion = service.count_tokens(content) if content else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _chunks(
    cid: str,
    made: int,
    content: str,
    finish: str,
    cited: list[dict[str, Any]],
    usage: dict[str, int] | None,
) -> Iterator[str]:
    def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": made,
            "model": MODEL,
            "choices": choices,
            **extra,
            **({"usage": None} if usage is not None and "usage" not in extra else {}),
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    def delta(piece: dict[str, Any], reason: str | None = None, **extra: Any) -> str:
        return chunk([{"index": 0, "delta": piece, "finish_reason": reason}], **extra)

    yield delta({"role": "assistant", "content": ""})
    # A few words at a time, so a client shows progress the way it does for a model; the
    # pieces join back to exactly the non-streamed reply.
    words = re.findall(r"\s*\S+\s*", content)
    for start in range(0, len(words), 8):
        yield delta({"content": "".join(words[start : start + 8])})
    yield delta({}, finish, citations=cited)
    if usage is not None:  # OpenAI's last chunk with include_usage: no choices, the usage
        yield chunk([], usage=usage)
    yield "data: [DONE]\n\n"
