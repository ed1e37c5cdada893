"""MCP: a real client lists the tools and calls them, over stdio (``verirag mcp``) and over
the HTTP server's ``/mcp/`` with a principal's key."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import httpx
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters

from tests.conftest import SAMPLE
from tests.server.conftest import SECRET, Server
from verirag import KnowledgeBase

TOOLS = {"search", "ask", "get_document", "list_documents", "document_history"}


def test_stdio_lists_tools_and_searches(tmp_path: Path) -> None:
    path = tmp_path / "kb"
    with KnowledgeBase(path) as kb:
        kb.ingest(SAMPLE / "v1" / "refund-policy.md")
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "verirag", "--kb", str(path), "mcp"]
    )

    async def session() -> tuple[set[str], list[dict[str, object]], dict[str, object]]:
        async with Client(params) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"query": "days to return an item", "k": 2})
            history = await client.call_tool("document_history", {"doc_id": "refund-policy.md"})
            return tools, found.structured_content["result"], history.structured_content

    tools, results, history = anyio.run(session)
    assert tools == TOOLS
    assert results[0]["doc_id"] == "refund-policy.md"
    assert "30 days" in results[0]["text"]
    assert [v["version"] for v in history["versions"]] == [1]


def _call(client: httpx.Client, tool: str, arguments: dict[str, object]) -> dict[str, object]:
    response = client.post(
        "/mcp/",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        },
        headers={
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2025-06-18",
        },
    )
    response.raise_for_status()
    result: dict[str, object] = response.json()["result"]
    return result


def test_http_tools_run_as_the_keys_principal(server: Server) -> None:
    with server.client(server.outsider) as otto, server.client(server.hr) as hana:
        listed = _call(otto, "list_documents", {})
        assert "salaries.md" not in json.dumps(listed)
        assert "salaries.md" in json.dumps(_call(hana, "list_documents", {}))
        found = _call(otto, "search", {"query": f"{SECRET} bonus", "k": 20})
        assert "salaries.md" not in json.dumps(found)
        denied = _call(otto, "get_document", {"doc_id": "salaries.md"})
        assert denied["isError"] and SECRET not in json.dumps(denied)
        shown = _call(hana, "get_document", {"doc_id": "salaries.md"})
        assert SECRET in json.dumps(shown)
    with server.client(None) as anonymous:
        response = anonymous.post(
            "/mcp/",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "list_documents", "arguments": {}},
            },
            headers={
                "accept": "application/json, text/event-stream",
                "mcp-protocol-version": "2025-06-18",
            },
        )
        assert response.status_code == 401
