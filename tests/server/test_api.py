"""The HTTP API against a real server process: keys, principals, documents, search, ask
(plain and streamed), the OpenAI-compatible endpoint, audit, metrics and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import SECRET, Server, finished, start, stop

QUESTION = "How many days do I have to return an item?"
HR_QUESTION = f"What does the {SECRET} bonus add?"


def events(response: httpx.Response) -> list[tuple[str, Any]]:
    found = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_every_request_needs_a_valid_key(server: Server) -> None:
    with server.client(None) as anonymous:
        assert anonymous.get("/api/health").json() == {"status": "ok", "keys_required": True}
        assert anonymous.get("/api/documents").status_code == 401
        assert anonymous.post("/api/search", json={"query": "refund"}).status_code == 401
    with server.client("vr_00000000_forged") as forged:
        response = forged.get("/api/documents")
        assert response.status_code == 401
        assert "API key" in response.json()["detail"]
    with server.client(server.outsider) as otto:
        assert otto.get("/api/whoami").json() == {
            "id": "key:" + server.outsider.split("_")[1],
            "name": "otto",
            "groups": ["public"],
            "admin": False,
        }


def test_a_restricted_document_never_reaches_a_principal_outside_its_group(
    server: Server,
) -> None:
    with server.client(server.outsider) as otto, server.client(server.hr) as hana:
        docs = otto.get("/api/documents").json()
        assert "salaries.md" not in {d["doc_id"] for d in docs}
        assert "salaries.md" in {d["doc_id"] for d in hana.get("/api/documents").json()}
        assert len(hana.get("/api/documents").json()) == len(docs) + 1
        # Looked up directly it is missing, not forbidden: its existence is not confirmed.
        for path in (
            "/api/documents/salaries.md",
            "/api/documents/salaries.md/versions/1",
            "/api/documents/salaries.md/diff?old=1&new=1",
        ):
            assert otto.get(path).status_code == 404
            assert hana.get(path).status_code == 200
        # Searched, asked, asked through the OpenAI-compatible endpoint: never there.
        found = otto.post("/api/search", json={"query": HR_QUESTION, "k": 50}).json()
        assert "salaries.md" not in {r["doc_id"] for r in found["results"]}
        answer = otto.post("/api/ask", json={"question": HR_QUESTION}).json()
        chat = otto.post(
            "/v1/chat/completions",
            json={
                "model": "verirag",
                "messages": [{"role": "user", "content": HR_QUESTION}],
            },
        )
        streamed = otto.post("/api/ask", json={"question": HR_QUESTION, "stream": True})
        for text in (json.dumps(found), json.dumps(answer), chat.text, streamed.text):
            assert SECRET not in text.replace(HR_QUESTION, "")
            assert "salaries.md" not in text
        # Otto's audit view holds only Otto's answers; Hana's answer cites the document.
        mine = hana.post("/api/ask", json={"question": HR_QUESTION}).json()
        assert "salaries.md" in {s["doc_id"] for s in mine["sources"]}
        trail = otto.get("/api/audit?limit=500").json()
        otto_id, hana_id = (c.get("/api/whoami").json()["id"] for c in (otto, hana))
        assert trail and {r["principal"] for r in trail} == {otto_id}
        assert "salaries.md" not in json.dumps(trail)
        assert otto.get(f"/api/audit/{mine['answer_id']}").status_code == 404
        assert hana.get(f"/api/audit/{mine['answer_id']}").json()["principal"] == hana_id


def test_ask_cites_section_and_version_and_streams_the_checked_answer(server: Server) -> None:
    with server.client(server.outsider) as otto:
        answer = otto.post("/api/ask", json={"question": QUESTION}).json()
        assert not answer["abstained"]
        assert "30 days" in answer["answer"]
        cited = answer["sources"][0]
        assert cited["doc_id"] == "refund-policy.md" and cited["version"] == 1
        assert cited["section"][-1] == "Eligibility"
        # The cited span is a real span of that version's text.
        version = otto.get(f"/api/documents/{cited['doc_id']}/versions/{cited['version']}")
        assert "30 days" in version.json()["text"][cited["char_start"] : cited["char_end"]]
        # Each claim says where each source it cites says it, at the sentence's lines.
        (where,) = answer["claims"][0]["where"]
        assert where["n"] == answer["claims"][0]["cited"][0]
        assert where["label"].startswith(f"[{where['n']}] ") and where["lines"][0] is not None

        streamed = otto.post("/api/ask", json={"question": QUESTION, "stream": True})
        assert streamed.headers["content-type"].startswith("text/event-stream")
        kinds = events(streamed)
        assert kinds[-1][0] == "answer"
        assert kinds[-1][1]["answer"] == answer["answer"]

        off_topic = otto.post("/api/ask", json={"question": "Who won the 1998 world cup?"}).json()
        assert off_topic["abstained"]
        assert off_topic["answer"].startswith("The documents don't say")


def test_openai_compatible_chat(server: Server) -> None:
    with server.client(server.outsider) as otto:
        models = [m["id"] for m in otto.get("/v1/models").json()["data"]]
        assert models == ["verirag", "all-MiniLM-L6-v2-int8"]
        request = {
            "model": "verirag",
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
            ],
        }
        reply = otto.post("/v1/chat/completions", json=request).json()
        message = reply["choices"][0]["message"]
        assert message["role"] == "assistant"
        assert "30 days" in message["content"]
        assert "refund-policy.md v1" in message["content"]  # the source list, for plain clients
        assert reply["citations"][0]["doc_id"] == "refund-policy.md"
        assert message["citations"] == reply["citations"]

        streamed = otto.post("/v1/chat/completions", json={**request, "stream": True})
        lines = [x[6:] for x in streamed.text.splitlines() if x.startswith("data: ")]
        assert lines[-1] == "[DONE]"
        chunks = [json.loads(x) for x in lines[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert text == message["content"]
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert chunks[-1]["citations"] == reply["citations"]


def test_admins_manage_documents_and_keys(server: Server, tmp_path: Path) -> None:
    policy = b"# Gift Cards\n\nGift cards never expire and can be used in any store.\n"
    with server.client(server.admin) as root, server.client(server.outsider) as otto:
        upload = {"file": ("gift-cards.md", policy, "text/markdown")}
        assert otto.post("/api/documents", files=upload).status_code == 403
        made = root.post("/api/documents?wait=60", files=upload)
        (outcome,) = finished(made)["outcomes"]
        assert (outcome["doc_id"], outcome["status"], outcome["version"]) == (
            "gift-cards.md",
            "new",
            1,
        )
        found = otto.post("/api/search", json={"query": "do gift cards expire", "k": 3}).json()
        assert found["results"][0]["doc_id"] == "gift-cards.md"

        # A corrupt file is reported; nothing stored is lost.
        broken = root.post(
            "/api/documents?wait=60", files={"file": ("broken.pdf", b"%PDF-1.7 junk")}
        )
        (failed,) = finished(broken)["outcomes"]
        assert failed["status"] == "failed" and failed["reason"]
        assert "gift-cards.md" in {d["doc_id"] for d in otto.get("/api/documents").json()}

        # Server-side paths, for admins only.
        folder = tmp_path / "more"
        folder.mkdir()
        (folder / "hours.md").write_text("# Hours\n\nStores open at 9 am.\n", encoding="utf-8")
        assert otto.post("/api/ingest", json={"paths": [str(folder)]}).status_code == 403
        report = root.post("/api/ingest?wait=60", json={"paths": [str(folder)], "access": ["ops"]})
        assert finished(report)["outcomes"][0]["doc_id"] == "hours.md"
        assert "hours.md" not in {d["doc_id"] for d in otto.get("/api/documents").json()}

        assert otto.delete("/api/documents/gift-cards.md").status_code == 403
        assert root.delete("/api/documents/gift-cards.md").status_code == 204
        assert "gift-cards.md" not in {d["doc_id"] for d in otto.get("/api/documents").json()}
        assert root.get("/api/documents/gift-cards.md").json()["versions"][-1]["tombstone"]

        # Keys: an admin makes one, it works at once, and stops working when revoked.
        assert otto.post("/api/keys", json={"name": "x"}).status_code == 403
        token = root.post("/api/keys", json={"name": "olga", "groups": ["ops"]}).json()["key"]
        with server.client(token) as olga:
            assert "hours.md" in {d["doc_id"] for d in olga.get("/api/documents").json()}
            (key,) = [k for k in root.get("/api/keys").json() if k["name"] == "olga"]
            assert root.delete(f"/api/keys/{key['key_id']}").status_code == 204
            assert olga.get("/api/documents").status_code == 401


def test_history_diff_and_as_of(server: Server, tmp_path: Path) -> None:
    first = tmp_path / "v1"
    first.mkdir()
    (first / "returns.md").write_text("# Returns\n\nReturns are free for 45 days.\n")
    with server.client(server.admin) as root:
        finished(root.post("/api/ingest?wait=60", json={"paths": [str(first)], "prefix": "as-of/"}))
        before = root.get("/api/documents/as-of/returns.md").json()["versions"][0]["ingested_at"]
        (first / "returns.md").write_text("# Returns\n\nReturns are free for 60 days.\n")
        finished(root.post("/api/ingest?wait=60", json={"paths": [str(first)], "prefix": "as-of/"}))
        doc = root.get("/api/documents/as-of/returns.md").json()
        assert [v["current"] for v in doc["versions"]] == [False, True]
        diff = root.get("/api/documents/as-of/returns.md/diff?old=1&new=2").json()["diff"]
        assert "-Returns are free for 45 days." in diff
        assert "+Returns are free for 60 days." in diff
        query = {"query": "how long are returns free", "k": 1, "doc_ids": ["as-of/returns.md"]}
        now = root.post("/api/search", json=query).json()["results"][0]
        then = root.post("/api/search", json={**query, "as_of": before + 0.001}).json()
        assert (now["version"], then["results"][0]["version"]) == (2, 1)


def test_errors_are_json_and_bodies_are_limited(server: Server, tmp_path: Path) -> None:
    with server.client(server.admin) as root:
        missing = root.get("/api/documents/nope.md")
        assert missing.status_code == 404 and missing.json() == {"detail": "no document 'nope.md'"}
        assert root.post("/api/search", json={"query": ""}).status_code == 422
        bad_date = root.post("/api/search", json={"query": "refund", "as_of": "yesterday"})
        assert bad_date.status_code == 422 and "as_of" in bad_date.text
        assert root.get("/openapi.json").json()["info"]["title"] == "verirag"
        # Metrics are for admins; they count requests, time every stage of an answer and
        # show the index size.
        assert root.post("/api/search", json={"query": "refund"}).status_code == 200
        assert root.post("/api/ask", json={"question": "how do refunds work?"}).status_code == 200
        metrics = root.get("/metrics").text
        for stage in ("embed", "dense", "bm25", "fusion", "context", "generate", "verify"):
            assert f'verirag_stage_seconds_count{{stage="{stage}"}}' in metrics, stage
        assert 'verirag_requests_total{method="POST",route="/api/search",status="200"}' in metrics
        assert 'verirag_index_size{kind="documents"}' in metrics
    with server.client(server.outsider) as otto:
        assert otto.get("/metrics").status_code == 403
        too_big = otto.post(
            "/api/search", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
        )
        # The default limit is 50 MB: 2 MB is refused only by a server started with less.
        assert too_big.status_code == 422


@pytest.mark.slow
def test_a_server_without_keys_binds_to_loopback_and_limits_bodies(tmp_path: Path) -> None:
    from verirag import KnowledgeBase

    path = tmp_path / "kb"
    KnowledgeBase(path).close()
    process, url, log = start(path, "--host", "0.0.0.0", "--max-body-mb", "1")
    try:
        assert "binding to 127.0.0.1" in log.read_text()
        with httpx.Client(base_url=url) as local:
            assert local.get("/api/whoami").json()["admin"] is True
            big = local.post(
                "/api/search",
                content=b"x" * 2_000_000,
                headers={"content-type": "application/json"},
            )
            assert big.status_code == 413
    finally:
        stop(process)


def test_eval_runs_are_scored_as_the_principal_and_kept(server: Server) -> None:
    questions = [
        {"question": QUESTION, "answers": ["30 days"], "gold_docs": ["refund-policy.md"]},
        {"question": HR_QUESTION, "answers": ["10 percent"], "gold_docs": ["salaries.md"]},
    ]
    with server.client(server.outsider) as otto, server.client(server.hr) as hana:
        mine = otto.post("/api/eval/qa", json={"questions": questions})
        assert mine.status_code == 201
        run = mine.json()
        assert run["principal"] == otto.get("/api/whoami").json()["id"]
        assert len(run["questions"]) == 2
        # Otto cannot read salaries.md, so his run finds the first answer and not the second.
        outcomes = {q["question"]: q for q in run["questions"]}
        assert outcomes[QUESTION]["contained"] == 1.0
        assert outcomes[HR_QUESTION]["recall"] == 0.0
        theirs = hana.post("/api/eval/qa", json={"questions": questions}).json()
        assert {q["question"]: q for q in theirs["questions"]}[HR_QUESTION]["recall"] == 1.0
        listed = otto.get("/api/eval/runs").json()
        assert {r["run_id"] for r in listed} == {run["run_id"]}
        assert "questions" not in listed[0]
        assert otto.get(f"/api/eval/runs/{theirs['run_id']}").status_code == 404
        assert otto.post("/api/eval/qa", json={"questions": []}).status_code == 422


def test_a_served_knowledge_base_says_it_is_in_use(server: Server) -> None:
    from verirag import KnowledgeBase
    from verirag.owner import Busy

    # Refused before any file is opened: nothing a second process does can touch them.
    with pytest.raises(Busy, match=r"is in use by process \d+ \(.*serve"):
        KnowledgeBase(server.path)
    with server.client(server.outsider) as otto:
        assert otto.post("/api/search", json={"query": "refund"}).status_code == 200


def test_every_route_declares_its_response_and_a_bug_is_a_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from verirag import KnowledgeBase
    from verirag.server import create_app

    with KnowledgeBase(tmp_path / "kb") as kb:
        app = create_app(kb)
        spec = app.openapi()
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                ok = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
                assert ok, (method, path)
                for code, response in ok.items():
                    if code == "204":
                        assert "content" not in response, (method, path)
                        continue
                    content = response["content"]
                    schema = next(iter(content.values()))["schema"]
                    # A JSON body names its model (or a list of one); only /metrics is text.
                    if "application/json" in content:
                        named = schema.get("$ref") or schema.get("items", {}).get("$ref")
                        assert named, (method, path, schema)
                    else:  # Prometheus text, and a job's server-sent events
                        assert path in ("/metrics", "/api/jobs/{job_id}/events"), (method, path)

        def broken(*_: object, **__: object) -> list[dict[str, Any]]:
            return {}["a bug"]  # type: ignore[no-any-return]

        monkeypatch.setattr(app.state.service, "documents", broken)
        loopback = {"base_url": "http://127.0.0.1", "client": ("127.0.0.1", 50000)}
        with TestClient(app, raise_server_exceptions=False, **loopback) as client:
            response = client.get("/api/documents")
            assert response.status_code == 500
            missing = client.get("/api/documents/nothing-here.md")
            assert missing.status_code == 404 and "nothing-here.md" in missing.json()["detail"]


def test_the_document_list_filters_and_pages(server: Server) -> None:
    with server.client(server.outsider) as otto, server.client(server.hr) as hana:
        everything = otto.get("/api/documents")
        total = int(everything.headers["X-Total-Count"])
        assert total == len(everything.json()) >= 8
        ids = [d["doc_id"] for d in everything.json()]
        assert ids == sorted(ids)
        page = otto.get("/api/documents?offset=2&limit=3")
        assert [d["doc_id"] for d in page.json()] == ids[2:5]
        assert page.headers["X-Total-Count"] == str(total)  # of all that match, not the page
        md = otto.get("/api/documents?format=markdown").json()
        assert [d["doc_id"] for d in md] == [
            d["doc_id"] for d in everything.json() if d["format"] == "markdown"
        ]
        assert "refund-policy.md" in [d["doc_id"] for d in md]
        found = otto.get("/api/documents?q=REFUND").json()  # id or title, any case
        assert "refund-policy.md" in [d["doc_id"] for d in found]
        assert all("refund" in f"{d['doc_id']} {d['title']}".lower() for d in found)
        # A group filter narrows what the key may read; it never widens it.
        assert otto.get("/api/documents?access=hr").json() == []
        assert [d["doc_id"] for d in hana.get("/api/documents?access=hr").json()] == ["salaries.md"]
        facets = otto.get("/api/facets").json()
        assert facets["access"]["public"] == total and sum(facets["formats"].values()) == total
        assert "hr" in hana.get("/api/facets").json()["access"]
        assert otto.get("/api/documents?limit=0").status_code == 422


def test_feedback_is_kept_with_the_answer_and_only_by_its_readers(server: Server) -> None:
    with server.client(server.outsider) as otto, server.client(server.hr) as hana:
        answer_id = otto.post("/api/ask", json={"question": QUESTION}).json()["answer_id"]
        given = otto.post(
            f"/api/audit/{answer_id}/feedback", json={"helpful": False, "comment": "old policy"}
        )
        assert given.status_code == 201, given.text
        assert given.json()["principal"] == "key:" + server.outsider.split("_")[1]
        # Someone else's answer is not found (not confirmed to exist), and gets no feedback.
        assert (
            hana.post(f"/api/audit/{answer_id}/feedback", json={"helpful": True}).status_code == 404
        )
        record = otto.get(f"/api/audit/{answer_id}").json()
        assert [(f["helpful"], f["comment"]) for f in record["feedback"]] == [(False, "old policy")]
        rated = otto.get("/api/audit?rated=true").json()
        assert [r["answer_id"] for r in rated] == [answer_id]
        newest = otto.get("/api/audit?limit=1").json()
        older = otto.get("/api/audit?limit=1&offset=1").json()
        assert newest[0]["answer_id"] == answer_id and (not older or older[0] != newest[0])
        bad = otto.post(f"/api/audit/{answer_id}/feedback", json={"comment": "no verdict"})
        assert bad.status_code == 422
