"""schemathesis against the server's own OpenAPI spec, over real HTTP on 127.0.0.1: every
route, with generated (and deliberately malformed) requests, answers without a 5xx. Bounded:
a fixed number of examples per route, derandomised so CI runs the same cases."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.server.conftest import build_vault, start, stop
from verirag import KnowledgeBase
from verirag.server import create_app

CALLS: dict[str, int] = {}
EXAMPLES = 15  # per route: 22 routes in about two minutes here


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    path, tokens, _ = build_vault(tmp_path_factory.mktemp("fuzzed"))
    process, url, _ = start(path)
    try:
        yield url, tokens["admin"], tokens["outsider"]
    finally:
        stop(process)
        print(f"\nschemathesis: {sum(CALLS.values())} requests over {len(CALLS)} routes, 0 5xx")


def _spec() -> dict[str, object]:
    """The server's OpenAPI document, as it serves it (the routes do not depend on what a
    knowledge base holds)."""
    with tempfile.TemporaryDirectory() as folder, KnowledgeBase(Path(folder) / "kb") as kb:
        return create_app(kb).openapi()


schema = schemathesis.openapi.from_dict(_spec())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_server_fail(
    case: schemathesis.Case, served: tuple[str, str, str]
) -> None:
    url, admin, outsider = served
    # The admin key reaches every route's handler (a low-privilege one stops at 403), except
    # server-side ingestion: generated paths such as "/" would read the whole machine.
    key = outsider if case.formatted_path == "/api/ingest" else admin
    response = case.call(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    route = case.operation.label
    CALLS[route] = CALLS.get(route, 0) + 1


def test_the_fuzzed_spec_is_the_served_one(served: tuple[str, str, str]) -> None:
    with httpx.Client(base_url=served[0]) as client:
        served_spec = client.get("/openapi.json", headers={"Host": "127.0.0.1"}).json()
    assert served_spec["paths"].keys() == schema.raw_schema["paths"].keys()
