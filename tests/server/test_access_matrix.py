"""The access matrix: every route of the server's OpenAPI spec, every MCP tool and the OpenAI
endpoint, called with a low-privilege key over a knowledge base of restricted documents,
restricted old versions, restricted-then-public and public-then-restricted documents. No
restricted token may appear in any response body or header.

Covered by construction: a route or tool this file has no probe for fails the test, so a
new one cannot ship unprobed."""

from __future__ import annotations

import itertools
import json
from typing import Any

import anyio
import httpx
from mcp.client.client import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from tests.conftest import SAMPLE
from tests.server.conftest import RESTRICTED, Vault

DOCS = ["flip.md", "lock.md", "back.md", "salaries.md", "refund-policy.md", "nope.md"]
QUESTIONS = [
    "What is the vault code for the night shift?",
    "What is the lockbox phrase for visitors?",
    "When is the backup window?",
    "What does the mentoring bonus add to the salary band?",
    "How many days do I have to return an item?",
]


def _bodies(vault: Vault) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Request bodies per route: each question plainly, as of before lock.md was
    restricted, and narrowed to each document."""
    as_of = vault.before_lock
    searches: list[dict[str, Any]] = []
    for q in QUESTIONS:
        searches += [{"query": q, "k": 50}, {"query": q, "k": 50, "as_of": as_of}]
        searches += [{"query": q, "doc_ids": [d]} for d in DOCS[:4]]
    asks = [
        {"question": q, **extra}
        for q in QUESTIONS
        for extra in ({}, {"as_of": as_of}, {"stream": True}, {"history": QUESTIONS[:4]})
    ]
    chats = [
        {"model": "verirag", "messages": [{"role": "user", "content": q}], "stream": stream}
        for q in QUESTIONS
        for stream in (False, True)
    ]
    return {
        ("post", "/api/search"): searches,
        ("post", "/api/ask"): asks,
        ("post", "/v1/chat/completions"): chats
        + [
            {"messages": [{"role": "user", "content": a}, {"role": "user", "content": b}]}
            for a, b in itertools.pairwise(QUESTIONS)
        ],
        ("post", "/api/conversations"): [{}, {"title": "mine"}],
        ("post", "/v1/embeddings"): [{"input": QUESTIONS}, {"input": "x", "model": "nope"}],
        ("post", "/api/eval/qa"): [
            {"questions": [{"question": q, "answers": ["x"], "gold_docs": DOCS} for q in QUESTIONS]}
        ],
        ("post", "/api/ingest"): [{"paths": [str(vault.path.parent / "docs")]}],
        ("post", "/api/keys"): [{"name": "mine", "groups": ["hr"]}, {"name": "a", "admin": True}],
        # feedback on others' answers (hana's, the owner's): refused as not found
        ("post", "/api/audit/{answer_id}/feedback"): [
            {"helpful": True},
            {"helpful": False, "comment": "wrong"},
        ],
    }


def _path_values(vault: Vault) -> dict[str, list[str]]:
    """Values for each path parameter: every document, version, and the ids of records
    that belong to others (read with the admin key)."""
    with vault.client(vault.admin) as root, vault.client(vault.hr) as hana:
        hana.post("/api/ask", json={"question": QUESTIONS[3]})
        hana.post("/api/eval/qa", json={"questions": [{"question": QUESTIONS[1]}]})
        # hana's conversation about restricted text: no one else may read or extend it
        hanas = hana.post("/api/conversations", json={}).json()["conversation_id"]
        hana.post("/api/ask", json={"question": QUESTIONS[3], "conversation_id": hanas})
        answers = [r["answer_id"] for r in root.get("/api/audit?limit=500").json()]
        runs = [r["run_id"] for r in root.get("/api/eval/runs").json()]
        keys = [k["key_id"] for k in root.get("/api/keys").json()]
        # A job to probe: re-ingesting an unchanged public file (a no-op).
        same = str(SAMPLE / "v1" / "refund-policy.md")
        job = root.post("/api/ingest?wait=60", json={"paths": [same]})
        jobs = [j["job_id"] for j in root.get("/api/jobs").json()] + [job.json()["job_id"]]
    return {
        "doc_id": DOCS,
        "version": ["1", "2", "3", "4"],
        "answer_id": answers,
        "run_id": runs,
        "key_id": keys,
        "job_id": jobs,
        "model_id": ["verirag", "all-MiniLM-L6-v2-int8", "nope"],
        "conversation_id": [hanas, "0" * 32],
    }


# None: the parameter left out (its default).
QUERY_VALUES: dict[str, list[str | None]] = {
    "old": ["1"],
    "new": ["2", "3"],
    "limit": ["500"],
    "offset": [None, "1"],
    "wait": ["0"],
    "removed": ["false", "true"],
    "rated": [None, "true"],
    # the document list's filters, each by a value restricted documents have
    "q": [None, "lock"],
    "access": [None, "hr"],
    "tag": [None, "TAGPAYROLLHR"],
    "format": [None, "markdown"],
}


def _leaks(response: httpx.Response) -> list[str]:
    text = response.text + json.dumps(dict(response.headers))
    return [token for token in RESTRICTED if token in text]


def test_no_route_leaks_restricted_text_to_a_low_privilege_key(vault: Vault) -> None:
    with vault.client(vault.admin) as root:
        spec = root.get("/openapi.json").json()
    bodies = _bodies(vault)
    path_values = _path_values(vault)
    bodies[("post", "/api/ask")] += [  # a turn in someone else's conversation
        {"question": "And what else?", "conversation_id": c} for c in path_values["conversation_id"]
    ]
    calls: list[tuple[str, str, dict[str, Any] | None]] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "delete":
                continue  # probed last: an admin-only change that must refuse first
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            missing = [n for n in [*names, *query] if n not in path_values | QUERY_VALUES]
            assert not missing, f"add probe values for {method.upper()} {path}: {missing}"
            if "requestBody" in operation:
                content = operation["requestBody"]["content"]
                if "multipart/form-data" in content:
                    payloads: list[dict[str, Any] | None] = [None]  # an upload, below
                else:
                    assert (method, path) in bodies, f"add a probe body for {method.upper()} {path}"
                    payloads = list(bodies[(method, path)])
            else:
                payloads = [None]
            for values in itertools.product(*(path_values[n] for n in names)):
                url = path
                for name, value in zip(names, values, strict=True):
                    url = url.replace("{" + name + "}", value).replace("{" + name + ":path}", value)
                for combo in itertools.product(*(QUERY_VALUES[q] for q in query)):
                    given = [(q, v) for q, v in zip(query, combo, strict=True) if v is not None]
                    full = url + ("?" + "&".join(f"{q}={v}" for q, v in given) if given else "")
                    calls += [(method, full, body) for body in payloads]
    deletes = [
        ("delete", p.replace("{" + name + "}", v).replace("{" + name + ":path}", v), None)
        for p, ops in spec["paths"].items()
        if "delete" in ops
        for name in ("doc_id", "job_id", "key_id", "conversation_id")
        if "{" + name in p
        for v in path_values[name]
    ]
    statuses: dict[int, int] = {}
    with vault.client(vault.outsider) as otto:
        # Posts first, so the audit and run listings probed after them hold the key's own
        # answers to every question.
        calls.sort(key=lambda c: c[0] != "post")
        for method, url, body in [*calls, *deletes]:
            if method == "post" and url == "/api/documents":
                upload = {"file": ("x.md", b"# X\n\nx\n")}
                response = otto.post(url, files=upload, data={"access": ["hr"]})
            else:
                response = otto.request(method, url, json=body)
            assert response.status_code < 500, (method, url, body, response.text)
            assert _leaks(response) == [], (method, url, body)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    probes = len(calls) + len(deletes)
    print(f"\naccess matrix: {probes} HTTP probes, statuses {statuses}, 0 leaks")
    assert probes >= 100 and statuses.get(200, 0) >= 50  # the probes reached real answers


MCP_ARGUMENTS: dict[str, list[dict[str, Any]]] = {
    "search": [{"query": q, "k": 50} for q in QUESTIONS],
    "ask": [{"question": q} for q in QUESTIONS]
    + [{"question": "And what else?", "history": QUESTIONS[:4]}],
    "list_documents": [{}, {"limit": 1}, {"limit": 2, "cursor": "bG9jay5tZA=="}],  # lock.md
    "get_document": [{"doc_id": d, "version": v} for d in DOCS for v in (None, 1, 2, 3)]
    + [{"doc_id": d, "offset": 20, "length": 30} for d in DOCS],
    "document_history": [{"doc_id": d} for d in DOCS],
}


def test_no_mcp_tool_leaks_restricted_text_to_a_low_privilege_key(vault: Vault) -> None:
    async def probe() -> tuple[int, list[str]]:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {vault.outsider}"})
        transport = streamable_http_client(vault.url + "/mcp/", http_client=http)
        found: list[str] = []
        calls = 0
        async with http, Client(transport) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            unprobed = set(tools) - set(MCP_ARGUMENTS)
            assert not unprobed, f"add probe arguments for MCP tools {unprobed}"
            for tool in tools:
                for arguments in MCP_ARGUMENTS[tool]:
                    args = {k: v for k, v in arguments.items() if v is not None}
                    result = await client.call_tool(tool, args)
                    text = json.dumps(result.model_dump(mode="json"))
                    found += [f"{tool}({args}): {t}" for t in RESTRICTED if t in text]
                    calls += 1
        return calls, found

    calls, found = anyio.run(probe)
    print(f"\naccess matrix: {calls} MCP probes, 0 leaks")
    assert found == []
