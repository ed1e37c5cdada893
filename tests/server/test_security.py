"""Regression tests for the attacks in the security review, each against a real server
process on 127.0.0.1: leaks through history and edits (C1, H2), key revocation (C2), records
owned by names (H1), keyless mode driven from a web page (H6), error messages that tell
missing from forbidden (M1), upload names and sidecars (M4, M5), malformed requests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import httpx
from mcp.client.client import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from tests.server.conftest import RESTRICTED, Vault, finished, start, stop
from verirag import KnowledgeBase

VAULT_QUESTION = "What is the vault code for the night shift?"
LOCK_QUESTION = "What is the lockbox phrase for visitors?"
BACKUP_QUESTION = "When is the backup window?"


def leaked(text: str) -> list[str]:
    return [token for token in RESTRICTED if token in text]


async def _mcp(url: str, key: str, tool: str, arguments: dict[str, object]) -> str:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    transport = streamable_http_client(url + "/mcp/", http_client=http)
    async with http, Client(transport) as client:
        result = await client.call_tool(tool, arguments)
        return json.dumps(result.model_dump(mode="json"))


def mcp_call(url: str, key: str, tool: str, arguments: dict[str, object]) -> str:
    async def call() -> str:
        return await _mcp(url, key, tool, arguments)

    return anyio.run(call)


def test_c1_a_previous_restricted_version_never_reaches_readers_of_the_current(
    vault: Vault,
) -> None:
    with vault.client(vault.outsider) as otto, vault.client(vault.hr) as hana:
        for question in (VAULT_QUESTION, BACKUP_QUESTION):
            answer = otto.post("/api/ask", json={"question": question}).json()
            cited = {s["doc_id"] for s in answer["sources"]}
            assert cited & {"flip.md", "back.md"}, answer  # the current version is cited...
            assert leaked(json.dumps(answer)) == []  # ...and not what the hr version said
            chat = otto.post(
                "/v1/chat/completions",
                json={"model": "verirag", "messages": [{"role": "user", "content": question}]},
            )
            assert chat.status_code == 200 and leaked(chat.text) == []
            trace = otto.get(f"/api/audit/{answer['answer_id']}").text
            assert leaked(trace) == []
            assert leaked(mcp_call(vault.url, vault.outsider, "ask", {"question": question})) == []
        # An hr reader may read both versions, so it is told what the edit rewrote.
        answer = hana.post("/api/ask", json={"question": VAULT_QUESTION}).json()
        edits = [e for s in answer["sources"] if s["doc_id"] == "flip.md" for e in s["edits"]]
        assert any("XFLIPTWOHR" in e["was"] for e in edits), answer["sources"]


def test_h2_restricting_a_document_withdraws_its_earlier_versions(vault: Vault) -> None:
    with vault.client(vault.outsider) as otto, vault.client(vault.hr) as hana:
        for path in (
            "/api/documents/lock.md",
            "/api/documents/lock.md/versions/1",
            "/api/documents/lock.md/diff?old=1&new=2",
        ):
            assert otto.get(path).status_code == 404, path
            assert hana.get(path).status_code == 200, path
        as_of = {"as_of": vault.before_lock}
        found = otto.post("/api/search", json={"query": LOCK_QUESTION, "k": 50, **as_of}).json()
        assert "lock.md" not in {r["doc_id"] for r in found["results"]}
        then = hana.post("/api/search", json={"query": LOCK_QUESTION, "k": 50, **as_of}).json()
        assert ("lock.md", 1) in {(r["doc_id"], r["version"]) for r in then["results"]}
        answer = otto.post("/api/ask", json={"question": LOCK_QUESTION, **as_of}).text
        assert leaked(answer) == []
        tool = mcp_call(
            vault.url, vault.outsider, "get_document", {"doc_id": "lock.md", "version": 1}
        )
        assert leaked(tool) == [] and "no document 'lock.md'" in tool
        # The document listing and history agree with the version route.
        assert "lock.md" not in {d["doc_id"] for d in otto.get("/api/documents").json()}
        flip = otto.get("/api/documents/flip.md").json()
        assert [v["version"] for v in flip["versions"]] == [2]  # v1 was hr
        assert otto.get("/api/documents/flip.md/versions/1").status_code == 404
        assert otto.get("/api/documents/flip.md/diff?old=1&new=2").status_code == 404


def test_m1_forbidden_answers_exactly_like_missing(vault: Vault) -> None:
    with vault.client(vault.outsider) as otto:
        for forbidden, missing in (
            ("/api/documents/salaries.md", "/api/documents/nope.md"),
            ("/api/documents/salaries.md/versions/1", "/api/documents/nope.md/versions/1"),
            ("/api/documents/lock.md/versions/2", "/api/documents/nope.md/versions/2"),
            ("/api/documents/flip.md/versions/1", "/api/documents/flip.md/versions/9"),
        ):
            a, b = otto.get(forbidden), otto.get(missing)
            assert a.status_code == b.status_code == 404
            assert _shape(a.json()["detail"]) == _shape(b.json()["detail"]), (a.text, b.text)


def _shape(message: str) -> str:
    """A message with its document id and version number taken out."""
    return re.sub(r"'[^']*'", "'X'", re.sub(r"\d+", "N", message))


def test_h1_records_belong_to_the_key_id_not_its_name(vault: Vault) -> None:
    with vault.client(vault.hr) as hana, vault.client(vault.impostor) as fake:
        asked = hana.post("/api/ask", json={"question": "What does the Quillfeather bonus add?"})
        answer_id = asked.json()["answer_id"]
        assert hana.get(f"/api/audit/{answer_id}").status_code == 200
        assert fake.get("/api/whoami").json()["name"] == "hana"
        assert fake.get(f"/api/audit/{answer_id}").status_code == 404
        assert answer_id not in fake.get("/api/audit?limit=500").text
        assert leaked(fake.get("/api/audit?limit=500").text) == []
        run = hana.post(
            "/api/eval/qa",
            json={"questions": [{"question": "What does the Quillfeather bonus add?"}]},
        ).json()
        assert fake.get(f"/api/eval/runs/{run['run_id']}").status_code == 404
        assert run["run_id"] not in fake.get("/api/eval/runs").text
    # What the owner asked at the command line is not a key's because it is named "local".
    with vault.client(vault.local_named) as local, vault.client(vault.admin) as root:
        assert LOCK_QUESTION in root.get("/api/audit?limit=500").text
        assert LOCK_QUESTION not in local.get("/api/audit?limit=500").text


def test_c2_revoking_the_last_key_never_opens_the_server(tmp_path: Path) -> None:
    path = tmp_path / "kb"
    with KnowledgeBase(path) as kb:
        token = kb.keys.create("root", admin=True)
    process, url, _ = start(path)
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as root:
            (key,) = root.get("/api/keys").json()
            assert root.delete(f"/api/keys/{key['key_id']}").status_code == 204
        with httpx.Client(base_url=url) as anonymous:
            assert anonymous.get("/api/health").json()["keys_required"] is True
            assert anonymous.get("/api/whoami").status_code == 401
            assert anonymous.post("/api/search", json={"query": "x"}).status_code == 401
            assert (
                anonymous.post("/api/keys", json={"name": "me", "admin": True}).status_code == 401
            )
    finally:
        stop(process)


def test_h6_keyless_mode_refuses_other_hosts_and_cross_site_changes(tmp_path: Path) -> None:
    path = tmp_path / "kb"
    KnowledgeBase(path).close()
    process, url, _ = start(path)
    port = url.rsplit(":", 1)[1]
    upload = {"file": ("evil.md", b"# Evil\n\nPlanted by a web page.\n", "text/markdown")}
    try:
        with httpx.Client(base_url=url) as local:
            cross = local.post(
                "/api/documents", files=upload, headers={"Origin": "http://attacker.example"}
            )
            assert cross.status_code == 403 and "cross-site" in cross.json()["detail"]
            fetch = local.post(
                "/api/documents", files=upload, headers={"Sec-Fetch-Site": "cross-site"}
            )
            assert fetch.status_code == 403
            rebound = local.get("/api/documents", headers={"Host": f"attacker.example:{port}"})
            assert rebound.status_code == 403 and "Host" in rebound.json()["detail"]
            assert local.get("/api/documents").json() == []  # nothing was stored
            same = local.post(
                "/api/documents?wait=60",
                files=upload,
                headers={"Origin": f"http://127.0.0.1:{port}"},
            )
            finished(same)
            assert [d["doc_id"] for d in local.get("/api/documents").json()] == ["evil.md"]
    finally:
        stop(process)


def test_m4_m5_upload_names_and_sidecars(vault: Vault) -> None:
    with vault.client(vault.admin) as root, vault.client(vault.outsider) as otto:
        long = root.post("/api/documents", files={"file": ("a" * 300 + ".md", b"# A\n\ntext\n")})
        assert long.status_code == 400 and "255 bytes" in long.json()["detail"]
        uploads = vault.path / "uploads"
        assert not any(p.name.startswith("tmp") for p in uploads.glob("*"))  # nothing left
        sidecar = b'access = ["public"]\n'
        refused = root.post("/api/documents", files={"file": ("memo.md.verirag.toml", sidecar)})
        assert refused.status_code == 400
        memo = b"# Memo\n\nThe LOCKTWOHR memo is for hr only.\n"
        stored = root.post(
            "/api/documents?wait=60", files={"file": ("memo.md", memo)}, data={"access": ["hr"]}
        )
        finished(stored)
        assert root.get("/api/documents/memo.md").json()["access"] == ["hr"]
        assert otto.get("/api/documents/memo.md").status_code == 404
        root.delete("/api/documents/memo.md")


def test_malformed_requests_are_422_not_500(vault: Vault) -> None:
    with vault.client(vault.outsider) as otto, vault.client(vault.admin) as root:
        for filters in ({"tags": None}, {"tags": [{"nested": 1}]}, {"tags": []}, {"n": {"x": 1}}):
            response = otto.post("/api/search", json={"query": "refund", "filters": filters})
            assert response.status_code == 422, (filters, response.text)
        listed = root.post(
            "/api/documents", files={"file": ("m.md", b"# M\n\nx y\n")}, data={"metadata": "[1]"}
        )
        assert listed.status_code == 422 and "object" in listed.json()["detail"]
        long = otto.post("/api/search", json={"query": "refund " * 1000})
        assert long.status_code == 422
        tokens = otto.post("/api/ask", json={"question": "zq " * 1300})
        assert tokens.status_code == 422 and "tokens" in tokens.text


def test_readers_never_see_server_paths(vault: Vault) -> None:
    with vault.client(vault.outsider) as otto, vault.client(vault.admin) as root:
        assert str(vault.path.parent) not in otto.get("/api/documents").text
        assert str(vault.path.parent) not in otto.get("/api/documents/flip.md").text
        assert str(vault.path.parent) not in otto.get("/api/documents/flip.md/versions/2").text
        assert str(vault.path.parent) in root.get("/api/documents/flip.md").text
