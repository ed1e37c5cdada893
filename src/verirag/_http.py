"""One retry policy for the OpenAI-compatible clients (embeddings, chat)."""

from __future__ import annotations

import time
from typing import Any

import httpx

RETRYABLE = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_S = 30.0  # the longest Retry-After honoured


def _retry_after(response: httpx.Response) -> float | None:
    """The seconds a 429 or 503 asks the client to wait (``Retry-After: N``), if it says."""
    try:
        return min(float(response.headers.get("Retry-After", "")), MAX_WAIT_S)
    except ValueError:
        return None


def post(
    client: httpx.Client,
    path: str,
    payload: dict[str, Any],
    *,
    retries: int,
    what: str,
    stream: bool = False,
) -> httpx.Response:
    """POST with retries on connection errors, 429 and 5xx, after the ``Retry-After`` the
    server asks for or an exponential backoff; any other error status, or the last failure,
    raises a RuntimeError naming ``what``. With ``stream`` the body is left unread (close the
    response)."""
    problem = ""
    wait: float | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(wait if wait is not None else min(2 ** (attempt - 1) * 0.5, 8.0))
        try:
            response = client.send(client.build_request("POST", path, json=payload), stream=stream)
        except httpx.TransportError as exc:
            problem = str(exc) or type(exc).__name__
            wait = None
            continue
        if response.status_code in RETRYABLE:
            problem = f"HTTP {response.status_code}"
            wait = _retry_after(response)
            response.close()
            continue
        if response.is_error:
            body = response.read().decode(errors="replace")[:200]
            response.close()
            raise RuntimeError(f"{what} failed: HTTP {response.status_code}: {body}")
        return response
    raise RuntimeError(f"{what} failed after {retries + 1} tries: {problem}")
