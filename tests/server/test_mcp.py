"""MCP: a real client lists the tools and calls them, over stdio (``verirag mcp``) and over
the HTTP server's ``/mcp/`` with a principal's key."""

from __future__ import annotations

import importlib.metadata
import json
import sys
from pathlib import Path

import anyio
import httpx
import pytest
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
            assert client.server_info.version == importlib.metadata.version("verirag")
            tools = {t.name for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"query": "days to return an item", "k": 2})
            history = await client.call_tool("document_history", {"doc_id": "refund-policy.md"})
            missing = await client.call_tool("document_history", {"doc_id": "nope.md"})
            assert missing.is_error and "not found: no document 'nope.md'" in str(missing.content)
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
        # A follow-up with the conversation's earlier questions is made standalone first.
        history = ["Tell me about refunds to the original payment method."]
        followed = _call(otto, "ask", {"question": "How long does it take?", "history": history})
        answer = followed["structuredContent"]
        assert answer["rewrite"] == "carried terms", answer  # type: ignore[index]
        assert "refunds" in answer["standalone_question"]  # type: ignore[index]
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


def _sdk(server: Server, key: str | None) -> tuple[httpx.AsyncClient, object]:
    from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    http = create_mcp_http_client(headers=headers)
    return http, streamable_http_client(server.url + "/mcp/", http_client=http)


GET, LIST = "Error executing tool get_document:", "Error executing tool list_documents:"


def test_the_sdk_client_pages_documents_windows_text_and_reads_errors(server: Server) -> None:
    async def session() -> dict[str, object]:
        http, transport = _sdk(server, server.hr)
        async with http, Client(transport) as client:  # type: ignore[arg-type]
            seen: list[str] = []
            pages = 0
            cursor = None
            while True:
                args: dict[str, object] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
                listed = (await client.call_tool("list_documents", args)).structured_content
                assert listed is not None
                seen += [d["doc_id"] for d in listed["documents"]]
                pages += 1
                cursor = listed["next_cursor"]
                if cursor is None:
                    break
            whole = await client.call_tool("get_document", {"doc_id": "refund-policy.md"})
            parts, offset = [], 0
            while offset is not None:
                part = await client.call_tool(
                    "get_document", {"doc_id": "refund-policy.md", "offset": offset, "length": 200}
                )
                assert part.structured_content is not None
                parts.append(part.structured_content)
                offset = part.structured_content["next_offset"]
            errors = {
                "missing": await client.call_tool("get_document", {"doc_id": "nope.md"}),
                "cursor": await client.call_tool("list_documents", {"cursor": "%%%"}),
                "limit": await client.call_tool("list_documents", {"limit": 0}),
                "version": await client.call_tool(
                    "get_document", {"doc_id": "refund-policy.md", "version": 9}
                ),
            }
            return {
                "seen": seen,
                "pages": pages,
                "total": listed["total"],
                "whole": whole.structured_content,
                "parts": parts,
                "errors": {k: (v.is_error, v.content[0].text) for k, v in errors.items()},  # type: ignore[union-attr]
                "version": client.server_info.version,
            }

    got = anyio.run(session)
    with server.client(server.hr) as hana:  # what other tests left: the REST list says
        readable = sorted(d["doc_id"] for d in hana.get("/api/documents").json())
    seen = got["seen"]
    assert seen == readable and "salaries.md" in readable and got["total"] == len(readable)
    assert got["pages"] == -(-len(readable) // 3) and len(readable) > 6
    whole, parts = got["whole"], got["parts"]
    assert isinstance(whole, dict) and isinstance(parts, list) and len(parts) > 1
    assert "".join(p["text"] for p in parts) == whole["text"]
    assert whole["text_chars"] == len(whole["text"]) and whole["next_offset"] is None
    assert all("text" not in c for c in whole["chunks"]) and whole["chunks"]
    assert got["errors"] == {
        "missing": (True, f"{GET} not found: no document 'nope.md'"),
        "cursor": (True, f"{LIST} invalid argument: cursor '%%%' is not one list_documents gave"),
        "limit": (True, f"{LIST} invalid argument: limit must be 1 to 500"),
        "version": (True, f"{GET} not found: no version 9 of 'refund-policy.md'"),
    }
    assert got["version"] == importlib.metadata.version("verirag")
    assert "Traceback" not in server.log.read_text()


def test_the_sdk_client_without_a_key_is_told_it_needs_one(server: Server) -> None:
    from mcp.shared.exceptions import MCPError

    async def session(key: str | None) -> None:
        http, transport = _sdk(server, key)
        async with http, Client(transport) as client:  # type: ignore[arg-type]
            await client.list_tools()

    for key in (None, "vr_wrong"):
        with pytest.raises(Exception) as refused:
            anyio.run(session, key)
        found: list[BaseException] = [refused.value]
        while isinstance(found[-1], BaseExceptionGroup):
            found.append(found[-1].exceptions[0])
        assert isinstance(found[-1], MCPError), repr(refused.value)
        assert "a valid API key is required" in str(found[-1])
