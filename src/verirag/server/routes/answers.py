"""Search and answers (plain JSON, or server-sent events while an LLM writes)."""

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse

from verirag.access import Principal
from verirag.generation import Answer, GenerationError
from verirag.retrieval import SearchOptions
from verirag.server.auth import Auth
from verirag.server.metrics import Metrics
from verirag.server.schemas import AnswerOut, AskRequest, SearchOut, SearchRequest
from verirag.server.service import Service, search_json

_STREAMED = {
    200: {
        "model": AnswerOut,
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
        "description": "the checked answer; with `stream`, `token` events then one `answer`",
    }
}


def router(service: Service, auth: Auth, metrics: Metrics) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["answers"])
    Who = Annotated[Principal, Depends(auth.principal)]

    @api.post("/search", response_model=SearchOut)
    def search(who: Who, body: SearchRequest) -> dict[str, Any]:
        started = time.perf_counter()
        results = service.search(
            who,
            body.query,
            k=body.k,
            as_of=body.as_of,
            metadata=body.filters,
            doc_ids=body.doc_ids,
            options=SearchOptions(mode=body.mode),
        )
        metrics.observe_stages({"search": time.perf_counter() - started})
        return {"query": body.query, "results": [search_json(r) for r in results]}

    # The body is an AnswerOut or an event stream: documented in ``responses``.
    @api.post("/ask", response_model=None, responses=_STREAMED)  # type: ignore[arg-type]
    def ask(who: Who, body: AskRequest) -> dict[str, Any] | StreamingResponse:
        if body.llm is not None and not who.admin:
            raise HTTPException(403, "only an admin key may choose the generator")
        kwargs: dict[str, Any] = {
            "k": body.k,
            "as_of": body.as_of,
            "metadata": body.filters,
            "llm": body.llm,
            "schema": body.json_schema,
            "history": body.history,
            "conversation_id": body.conversation_id,
        }
        if not body.stream:
            result = service.ask(who, body.question, **kwargs)
            observe(metrics, result)
            return result.to_json() | {"conversation_id": body.conversation_id}
        return StreamingResponse(
            _ask_events(service, metrics, who, body.question, kwargs),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    return api


def observe(metrics: Metrics, result: Answer) -> None:
    """An answer's stage timings, outcome and tokens, into the metrics."""
    metrics.observe_stages(result.timings)
    metrics.answers.labels(str(result.abstained).lower()).inc()
    metrics.tokens.labels("in").inc(result.tokens_in)
    metrics.tokens.labels("out").inc(result.tokens_out)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _ask_events(
    service: Service, metrics: Metrics, who: Principal, question: str, kwargs: dict[str, Any]
) -> Iterator[str]:
    """``token`` events while an LLM writes (a draft: not yet checked), then one ``answer``
    event with the checked answer, or an ``error`` event."""
    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def run() -> None:
        try:
            result = service.ask(
                who, question, on_token=lambda t: events.put(("token", t)), **kwargs
            )
            observe(metrics, result)
            conversation = {"conversation_id": kwargs.get("conversation_id")}
            events.put(("answer", result.to_json() | conversation))
        except (ValueError, KeyError, GenerationError) as exc:
            events.put(("error", {"detail": str(exc)}))
        except Exception as exc:  # the stream must end with an event, whatever happened
            events.put(("error", {"detail": f"{type(exc).__name__}: {exc}"}))
            raise

    threading.Thread(target=run, daemon=True).start()
    while True:
        event, data = events.get()
        yield _sse(event, data)
        if event != "token":
            return
