"""The HTTP server: REST under ``/api``, OpenAI-compatible chat under ``/v1``, MCP at
``/mcp/``, Prometheus at ``/metrics`` and the web UI at ``/``."""

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from verirag.access import Principal
from verirag.errors import Forbidden, InvalidInput, NotFound
from verirag.generation import GenerationError
from verirag.kb import KnowledgeBase
from verirag.owner import ServerInfo, remove_server, write_server
from verirag.server import openai_api
from verirag.server.auth import Auth
from verirag.server.guard import KeylessGuard
from verirag.server.mcp import build_mcp
from verirag.server.metrics import Metrics
from verirag.server.routes import admin, answers, conversations, documents, evaluation, jobs
from verirag.server.service import Service

MAX_BODY_MB = 50

# Domain errors by type: a built-in KeyError from a bug is a 500 with its traceback logged,
# never a 404.
STATUS = (
    (NotFound, 404),
    (InvalidInput, 422),
    (ValueError, 400),
    (Forbidden, 403),
    (GenerationError, 502),
)


def create_app(
    kb: KnowledgeBase,
    *,
    max_body_mb: int = MAX_BODY_MB,
    owner: ServerInfo | None = None,
    queue_uploads: bool = False,
    on_close: Callable[[], None] | None = None,
) -> FastAPI:
    """The server's app over an open knowledge base. Its mode is fixed when it is made:
    with API keys in the catalog every request needs one (``Authorization: Bearer vr_...``),
    and it stays so when the last key is revoked (then only a new key works). Without keys
    every request runs as the local owner, and the app itself answers only loopback clients
    and ``Host`` headers and refuses cross-site changes (:mod:`verirag.server.guard`); the
    first key made through it turns it keyed for good. ``owner``: the address and local-owner
    credential left in the knowledge base (0600) while the app runs, for the CLI and
    ``verirag mcp`` to go through it. ``queue_uploads``: uploads are jobs in the catalog's
    queue, for ``verirag worker`` processes (:mod:`verirag.server.workers`); ``on_close``
    runs when the app stops, after its jobs."""
    service = Service(kb, queue_uploads=queue_uploads)
    auth = Auth(kb.keys, owner.token if owner else None)
    metrics = Metrics(service.stats)
    mcp = build_mcp(service, auth.resolve)
    mcp_app = mcp.streamable_http_app(
        streamable_http_path="/", stateless_http=True, json_response=True
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if owner is not None:
            write_server(kb.path, owner)
        try:
            async with mcp.session_manager.run():
                yield
        finally:
            if owner is not None:
                remove_server(kb.path)
            service.close()  # running jobs stop between two documents
            if on_close is not None:
                on_close()

    app = FastAPI(
        title="verirag",
        summary="Answers from your own documents, citing document, section and version.",
        lifespan=lifespan,
        max_body_size=max_body_mb * 1_000_000,  # 413 past it, counted as the body arrives
    )
    app.state.service = service
    app.add_middleware(KeylessGuard, keyless=lambda: not auth.keyed)
    app.middleware("http")(_counted(metrics))
    for error, status in STATUS:
        app.add_exception_handler(error, _handler(status))
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.include_router(admin.router(service, auth, metrics))
    app.include_router(documents.router(service, auth))
    app.include_router(answers.router(service, auth, metrics))
    app.include_router(conversations.router(service, auth))
    app.include_router(evaluation.router(service, auth))
    app.include_router(jobs.router(service, auth))
    app.include_router(openai_api.router(service, metrics, auth.principal))
    app.mount("/mcp", _guarded(mcp_app, auth.resolve))
    static = resources.files("verirag.server") / "static"
    app.mount("/", StaticFiles(directory=str(static), html=True), name="ui")
    return app


def _counted(
    metrics: Metrics,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Middleware counting requests by route, method and status, and timing them."""

    async def count(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        path = getattr(request.scope.get("route"), "path", "other")
        metrics.requests.labels(path, request.method, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(time.perf_counter() - started)
        return response

    return count


AUTH_ERROR = -32001  # JSON-RPC's server-defined range: MCP names no code for a refused key


def _guarded(app: ASGIApp, resolve: Callable[[Headers], Principal]) -> ASGIApp:
    """``app`` behind the API keys: a request without a valid one gets 401 before MCP reads
    it (the tools then resolve the same key to run as its principal). The body is a JSON-RPC
    error, so an MCP client reports why, not "Server returned an error response"."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                resolve(Headers(scope=scope))
            except HTTPException as exc:
                error = {"code": AUTH_ERROR, "message": str(exc.detail)}
                body = {"jsonrpc": "2.0", "id": None, "error": error}
                await JSONResponse(body, exc.status_code, headers=exc.headers)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


def _openai(request: Request) -> bool:
    """Whether the request is to the OpenAI endpoint, whose clients read OpenAI's errors."""
    return request.url.path.startswith("/v1/")


def _openai_error(status: int, exc: Exception, message: str | None = None) -> JSONResponse:
    status = 400 if status == 422 else status  # OpenAI answers a bad request with 400
    body = openai_api.error_body(
        status, message or str(exc), getattr(exc, "param", None), getattr(exc, "code", None)
    )
    return JSONResponse(body, status_code=status)


def _handler(status: int) -> Any:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        if _openai(request):
            return _openai_error(status, exc)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _openai(request):
        response = _openai_error(exc.status_code, exc, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response
    return await http_exception_handler(request, exc)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _openai(request):
        problems = exc.errors()
        first = problems[0] if problems else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid"
        return JSONResponse(openai_api.error_body(400, message, where), status_code=400)
    return await request_validation_exception_handler(request, exc)
