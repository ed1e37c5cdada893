"""The HTTP server: REST under ``/api``, OpenAI-compatible chat under ``/v1``, MCP at
``/mcp/``, Prometheus at ``/metrics`` and the web UI at ``/``."""

import contextlib
import dataclasses
import json
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import datetime
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from verirag.access import LOCAL, Principal
from verirag.config import MAX_QUERY_CHARS
from verirag.errors import Forbidden, InvalidInput, NotFound
from verirag.evaluation.qa import QA
from verirag.generation import GenerationError
from verirag.ingest import IngestReport
from verirag.kb import KnowledgeBase
from verirag.server import openai_api
from verirag.server.guard import KeylessGuard
from verirag.server.mcp import build_mcp
from verirag.server.metrics import CONTENT_TYPE, Metrics
from verirag.server.service import Service, search_json

MAX_BODY_MB = 50


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(10, ge=1, le=100)
    as_of: datetime | None = Field(None, description="ISO 8601 or Unix time; naive is UTC")
    filters: dict[str, Any] | None = None
    doc_ids: list[str] | None = None


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(8, ge=1, le=100)
    as_of: datetime | None = Field(None, description="ISO 8601 or Unix time; naive is UTC")
    filters: dict[str, Any] | None = None
    llm: str | None = Field(None, description="admins only: another generator spec")
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    stream: bool = False


class EvalQuestion(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    answers: list[str] = Field(default_factory=list)
    gold_docs: list[str] = Field(default_factory=list)
    unanswerable: bool = False
    metadata: dict[str, Any] | None = None


class EvalRequest(BaseModel):
    questions: list[EvalQuestion] = Field(min_length=1, max_length=1000)
    k: int = Field(8, ge=1, le=100)


class IngestRequest(BaseModel):
    paths: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="files or folders on the server's disk"
    )
    sync: bool = False
    prefix: str = ""
    access: list[str] | None = None
    metadata: dict[str, Any] | None = None


class KeyRequest(BaseModel):
    name: str = Field(min_length=1)
    groups: list[str] = Field(default_factory=list)
    admin: bool = False


def create_app(kb: KnowledgeBase, *, max_body_mb: int = MAX_BODY_MB) -> FastAPI:
    """The server's app over an open knowledge base. Its mode is fixed when it is made:
    with API keys in the catalog every request needs one (``Authorization: Bearer vr_...``),
    and it stays so when the last key is revoked (then only a new key works). Without keys
    every request runs as the local owner, and the app itself answers only loopback clients
    and ``Host`` headers and refuses cross-site changes (:mod:`verirag.server.guard`); the
    first key made through it turns it keyed for good."""
    service = Service(kb)
    keys = kb.keys
    state = {"keys": keys.active()}
    metrics = Metrics(service.stats)

    def resolve(headers: Mapping[str, str] | None) -> Principal:
        if headers is None:  # MCP over stdio: the process owner
            return LOCAL
        if not state["keys"]:
            return LOCAL
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get("x-api-key", "")
        principal = keys.verify(token) if token else None
        if principal is None:
            raise HTTPException(401, "a valid API key is required (Authorization: Bearer vr_...)")
        return principal

    def principal(request: Request) -> Principal:
        return resolve(request.headers)

    Who = Annotated[Principal, Depends(principal)]

    def admin(who: Who) -> Principal:
        if not who.admin:
            raise HTTPException(403, "only an admin key may do this")
        return who

    Admin = Annotated[Principal, Depends(admin)]

    mcp = build_mcp(service, resolve)
    mcp_app = mcp.streamable_http_app(
        streamable_http_path="/", stateless_http=True, json_response=True
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    app = FastAPI(
        title="verirag",
        summary="Answers from your own documents, citing document, section and version.",
        lifespan=lifespan,
        max_body_size=max_body_mb * 1_000_000,  # 413 past it, counted as the body arrives
    )
    app.state.service = service
    app.add_middleware(KeylessGuard, keyless=lambda: not state["keys"])

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "other")
        metrics.requests.labels(path, request.method, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(time.perf_counter() - started)
        return response

    # By type: a built-in KeyError from a bug is a 500 with its traceback, never a 404.
    for error, status in (
        (NotFound, 404),
        (InvalidInput, 422),
        (ValueError, 400),
        (Forbidden, 403),
        (GenerationError, 502),
    ):
        app.add_exception_handler(error, _handler(status))

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "keys_required": state["keys"]}

    @app.get("/api/whoami")
    def whoami(who: Who) -> dict[str, Any]:
        return {"id": who.id, "name": who.name, "groups": who.groups, "admin": who.admin}

    # -- documents ------------------------------------------------------------------

    @app.get("/api/documents")
    def documents(who: Who) -> list[dict[str, Any]]:
        return service.documents(who)

    @app.post("/api/documents", status_code=201)
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
        return _report_json(report)

    @app.post("/api/ingest")
    def ingest(who: Admin, body: IngestRequest) -> dict[str, Any]:
        report = service.ingest_paths(
            who,
            body.paths,
            sync=body.sync,
            prefix=body.prefix,
            access=body.access,
            metadata=body.metadata,
        )
        return _report_json(report)

    @app.get("/api/documents/{doc_id:path}/versions/{version:int}")
    def version(who: Who, doc_id: str, version: int) -> dict[str, Any]:
        return service.version(who, doc_id, version)

    @app.get("/api/documents/{doc_id:path}/diff")
    def diff(who: Who, doc_id: str, old: int, new: int) -> dict[str, Any]:
        return {
            "doc_id": doc_id,
            "old": old,
            "new": new,
            "diff": service.diff(who, doc_id, old, new),
        }

    @app.get("/api/documents/{doc_id:path}")
    def document(who: Who, doc_id: str) -> dict[str, Any]:
        return service.document(who, doc_id)

    @app.delete("/api/documents/{doc_id:path}", status_code=204)
    def remove(who: Admin, doc_id: str) -> None:
        service.remove(who, doc_id)

    # -- search and answers ---------------------------------------------------------

    @app.post("/api/search")
    def search(who: Who, body: SearchRequest) -> dict[str, Any]:
        started = time.perf_counter()
        results = service.search(
            who,
            body.query,
            k=body.k,
            as_of=body.as_of,
            metadata=body.filters,
            doc_ids=body.doc_ids,
        )
        metrics.observe_stages({"search": time.perf_counter() - started})
        return {"query": body.query, "results": [search_json(r) for r in results]}

    @app.post("/api/ask", response_model=None)
    def ask(who: Who, body: AskRequest) -> dict[str, Any] | StreamingResponse:
        if body.llm is not None and not who.admin:
            raise HTTPException(403, "only an admin key may choose the generator")
        kwargs: dict[str, Any] = {
            "k": body.k,
            "as_of": body.as_of,
            "metadata": body.filters,
            "llm": body.llm,
            "schema": body.json_schema,
        }
        if not body.stream:
            result = service.ask(who, body.question, **kwargs)
            _observe(metrics, result)
            return result.to_json()
        return StreamingResponse(
            _ask_events(service, metrics, who, body.question, kwargs),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )

    # -- evaluation runs ----------------------------------------------------------------

    @app.post("/api/eval/qa", status_code=201)
    def eval_qa(who: Who, body: EvalRequest) -> dict[str, Any]:
        items = [
            QA(q.question, tuple(q.answers), q.metadata, tuple(q.gold_docs), q.unanswerable)
            for q in body.questions
        ]
        run_id = service.evaluate(who, items, k=body.k)
        return service.eval_run(who, run_id)

    @app.get("/api/eval/runs")
    def eval_runs(
        who: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 50
    ) -> list[dict[str, Any]]:
        return service.eval_runs(who, limit)

    @app.get("/api/eval/runs/{run_id}")
    def eval_run(who: Who, run_id: str) -> dict[str, Any]:
        return service.eval_run(who, run_id)

    # -- audit and keys ---------------------------------------------------------------

    @app.get("/api/audit")
    def audit(who: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
        return [r.to_json() for r in service.answers(who, limit)]

    @app.get("/api/audit/{answer_id}")
    def audit_one(who: Who, answer_id: str) -> dict[str, Any]:
        return service.answer(who, answer_id).to_json()

    @app.get("/api/keys")
    def list_keys(who: Admin) -> list[dict[str, Any]]:
        return [dataclasses.asdict(k) for k in keys.all()]

    @app.post("/api/keys", status_code=201)
    def create_key(who: Admin, body: KeyRequest) -> dict[str, Any]:
        token = keys.create(body.name, body.groups, admin=body.admin)
        state["keys"] = True
        return {"key": token, "name": body.name}

    @app.delete("/api/keys/{key_id}", status_code=204)
    def revoke_key(who: Admin, key_id: str) -> None:
        keys.revoke(key_id)  # a keyed server stays keyed: revoking never opens it

    @app.get("/metrics")
    def prometheus(who: Admin) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    app.include_router(openai_api.router(service, metrics, principal))
    app.mount("/mcp", _guarded(mcp_app, resolve))
    static = resources.files("verirag.server") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="ui")
    return app


def _guarded(app: ASGIApp, resolve: Callable[[Headers], Principal]) -> ASGIApp:
    """``app`` behind the API keys: a request without a valid one gets 401 before MCP reads
    it (the tools then resolve the same key to run as its principal)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                resolve(Headers(scope=scope))
            except HTTPException as exc:
                await JSONResponse({"detail": exc.detail}, exc.status_code)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


def _json_object(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{field} is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be a JSON object, not {type(value).__name__}")
    return value


def _handler(status: int) -> Any:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        message = str(exc)
        return JSONResponse({"detail": message}, status_code=status)

    return handle


def _report_json(report: IngestReport) -> dict[str, Any]:
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


def _observe(metrics: Metrics, result: Any) -> None:
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
            _observe(metrics, result)
            events.put(("answer", result.to_json()))
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
