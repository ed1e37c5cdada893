"""Keyless mode's fence. Without API keys every request runs as the owner, so the server
itself (not only the command that started it) keeps such requests to the owner's machine:
loopback clients, loopback ``Host`` headers (no DNS rebinding) and no state change a web
page on another origin could send (a multipart POST needs no CORS preflight)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 and ``::1`` (brackets and a port allowed)."""
    if not host:
        return False
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refusal(scope: Scope) -> str | None:
    """Why keyless mode refuses this request, or ``None``."""
    client = scope.get("client")
    if client is not None and not is_loopback(client[0]):
        return "this server has no API keys and answers only its own machine"
    headers = Headers(scope=scope)
    if not is_loopback(headers.get("host")):
        return "this server has no API keys and answers only a loopback Host header"
    if scope.get("method", "GET") in SAFE_METHODS:
        return None
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return "cross-site requests may not change a server that has no API keys"
    origin = headers.get("origin")
    if origin is not None and not is_loopback(urlsplit(origin).netloc or None):
        return "cross-site requests may not change a server that has no API keys"
    return None


class KeylessGuard:
    """ASGI middleware: the fence, while ``keyless()`` holds (403 with the reason)."""

    def __init__(self, app: ASGIApp, keyless: Callable[[], bool]) -> None:
        self.app = app
        self.keyless = keyless

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.keyless():
            reason = refusal(scope)
            if reason is not None:
                await JSONResponse({"detail": reason}, 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
