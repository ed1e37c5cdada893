"""A served knowledge base as a shared service, with real processes on 127.0.0.1: one owner
(a second process never touches its files), the CLI and ``verirag mcp`` through the running
server, background jobs (progress in order, cancel, readers going on meanwhile)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters

from tests.conftest import SAMPLE
from tests.conftest import run_verirag as cli
from tests.server.conftest import finished, start, stop
from verirag import KnowledgeBase
from verirag.owner import SERVER_FILE


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A keyed server over the sample corpus (keys make the owner's credential matter)."""
    path = tmp_path / "kb"
    with KnowledgeBase(path) as kb:
        kb.ingest(SAMPLE / "v1")
        kb.keys.create("root", admin=True)
    process, url, _ = start(path)
    try:
        yield path, url
    finally:
        stop(process)


def test_cli_and_mcp_go_through_the_server_that_owns_the_knowledge_base(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    path, url = served
    info = path / SERVER_FILE
    assert stat.S_IMODE(info.stat().st_mode) == 0o600  # its owner alone reads the credential
    assert json.loads(info.read_text())["url"] == url

    found = cli(path, "search", "how many days do I have to return an item?", "-k", "1")
    assert found.returncode == 0, found.stderr
    assert "refund-policy.md@1" in found.stdout

    more = tmp_path / "more"
    more.mkdir()
    (more / "hours.md").write_text("# Hours\n\nThe Quayside store opens at 7 am.\n")
    ingested = cli(path, "ingest", str(more))
    assert ingested.returncode == 0, ingested.stderr
    assert "hours.md" in ingested.stdout and "Traceback" not in ingested.stderr
    answer = cli(path, "ask", "When does the Quayside store open?")
    assert answer.returncode == 0 and "7 am" in answer.stdout, answer.stderr
    for command in (["docs"], ["history", "hours.md"], ["show", "hours.md"], ["check"]):
        ran = cli(path, *command)
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, (command, ran.stderr)
    assert "hours.md" in cli(path, "docs").stdout
    assert "opens at 7 am" in cli(path, "show", "hours.md").stdout
    assert "root" in cli(path, "keys", "list").stdout
    assert cli(path, "audit", "list").returncode == 0

    # eval qa runs on the server and keeps the run there; what needs the files says so.
    questions = tmp_path / "questions.jsonl"
    row = {"question": "When does the Quayside store open?", "answers": ["7 am"]}
    questions.write_text(json.dumps(row) + "\n")
    scored = cli(path, "eval", "qa", str(questions))
    assert scored.returncode == 0, scored.stderr
    assert "through http://127.0.0.1" in scored.stdout and "1.000" in scored.stdout
    refused = cli(path, "eval", "qa", str(questions), "--ablation")
    assert refused.returncode == 1 and "need its files" in refused.stderr
    assert "Traceback" not in refused.stderr

    # A second server on the same knowledge base: one line, no traceback.
    second = cli(path, "serve", "--port", "1")
    assert second.returncode == 1
    assert "is in use by process" in second.stderr and "Traceback" not in second.stderr
    assert len(second.stderr.strip().splitlines()) <= 2  # one line, wrapped at most once

    # `verirag mcp`, as an MCP client starts it, answers through the server.
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "verirag", "--kb", str(path), "mcp"]
    )

    async def session() -> tuple[str, str]:
        async with Client(params) as client:
            hits = await client.call_tool("search", {"query": "Quayside store opens", "k": 1})
            doc = await client.call_tool("get_document", {"doc_id": "hours.md"})
            return hits.structured_content["result"][0]["doc_id"], doc.structured_content["text"]

    doc_id, text = anyio.run(session)
    assert doc_id == "hours.md" and "7 am" in text

    # The server kept answering, and its files are whole.
    with httpx.Client(base_url=url, headers=_owner(path)) as client:
        assert client.post("/api/search", json={"query": "refund"}).status_code == 200
        assert client.get("/api/check").json()["problems"] == []
        runs = client.get("/api/eval/runs").json()
        assert [r["summary"]["questions"] for r in runs] == [1]


def _owner(path: Path) -> dict[str, str]:
    return {"Authorization": "Bearer " + json.loads((path / SERVER_FILE).read_text())["token"]}


def test_readers_go_on_while_a_job_runs_and_a_cancelled_job_leaves_it_whole(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    path, url = served
    folder = tmp_path / "bulk"
    folder.mkdir()
    for i in range(150):
        body = "\n\n".join(
            f"Paragraph {j} of notice {i} about shipment {i * j}." for j in range(40)
        )
        (folder / f"notice-{i:03}.md").write_text(f"# Notice {i}\n\n{body}\n")
    with httpx.Client(base_url=url, headers=_owner(path), timeout=120) as client:
        job = client.post("/api/ingest", json={"paths": [str(folder)]}).json()
        events: list[dict[str, object]] = []

        def follow() -> None:
            with client.stream("GET", f"/api/jobs/{job['job_id']}/events") as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:]))

        follower = threading.Thread(target=follow)
        follower.start()
        # A search completes while the job is still in progress.
        while client.get(f"/api/jobs/{job['job_id']}").json()["files_done"] == 0:
            time.sleep(0.05)
        started = time.perf_counter()
        found = client.post("/api/search", json={"query": "how many days to return an item"})
        took = time.perf_counter() - started
        assert found.status_code == 200 and found.json()["results"]
        assert client.get(f"/api/jobs/{job['job_id']}").json()["state"] == "running", took

        cancelled = client.delete(f"/api/jobs/{job['job_id']}").json()
        assert cancelled["job_id"] == job["job_id"]
        final = client.get(f"/api/jobs/{job['job_id']}", params={"wait": 60}).json()
        follower.join(60)
        assert final["state"] == "cancelled"
        assert 0 < final["files_done"] < 150

        # Progress came in order and ended in the final state.
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and len(events) >= 2
        assert events[-1]["state"] == "cancelled"
        done = [e["files_done"] for e in events]
        assert done == sorted(done)

        # What was committed stays, whole and searchable; the rest is not half-visible.
        check = client.get("/api/check").json()
        assert check["problems"] == []
        docs = {d["doc_id"] for d in client.get("/api/documents").json()}
        kept = {d for d in docs if d.startswith("notice-")}
        assert 0 < len(kept) < 150
        hit = client.post("/api/search", json={"query": "notice shipment", "k": 50}).json()
        assert {r["doc_id"] for r in hit["results"]} <= kept | docs

        # The job can run again and picks up where it stopped.
        again = client.post("/api/ingest?wait=300", json={"paths": [str(folder)]})
        counts = finished(again)["counts"]
        assert counts["new"] == 150 - len(kept) and counts["unchanged"] == len(kept)
    assert cli(path, "check").returncode == 0


def test_a_knowledge_base_opened_by_a_process_refuses_a_second_one(tmp_path: Path) -> None:
    path = tmp_path / "kb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from verirag import KnowledgeBase; "
            f"kb = KnowledgeBase({str(path)!r}); print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        before = {p.name: p.stat().st_mtime_ns for p in path.iterdir()}
        for command in (["search", "x"], ["ingest", str(SAMPLE / "v1")], ["serve"]):
            ran = cli(path, *command)
            assert ran.returncode == 1, command
            assert f"in use by process {holder.pid}" in ran.stderr.replace("\n", " ")
            assert "Traceback" not in ran.stderr
        after = {p.name: p.stat().st_mtime_ns for p in path.iterdir()}
        assert after == before  # nothing the refused commands did touched a file
    finally:
        holder.kill()
        holder.wait()
    # Its lock went with it: the next process opens the knowledge base.
    assert cli(path, "docs").returncode == 0
