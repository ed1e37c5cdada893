"""``verirag serve --workers 2`` on a PostgreSQL catalog: two processes answer on one socket,
each with an index replica of its own; an upload waits in the catalog's queue, reads the same
from either process, is ingested by a ``verirag worker`` and becomes searchable in both."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.server.conftest import SAMPLE, start, stop
from verirag import Config, KnowledgeBase
from verirag.owner import Busy, OwnerLock
from verirag.server.workers import REPLICAS_DIR

NOTICE = b"# Lunar notice\n\nThe observatory closes on every blue moon for recalibration.\n"


def held(directory: Path) -> bool:
    lock = OwnerLock(directory)
    try:
        lock.acquire()
    except Busy:
        return True
    lock.release()
    return False


def test_two_processes_serve_one_knowledge_base(tmp_path: Path, postgres_url: str) -> None:
    path = tmp_path / "kb"
    with KnowledgeBase(path, config=Config(catalog=postgres_url)) as kb:
        kb.ingest(SAMPLE / "v1")
    process, url, log = start(path, "--workers", "2")
    try:
        # The socket answers once one process is up; the other may still be loading.
        deadline = time.monotonic() + 120
        while log.read_text().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        replicas = sorted((path / REPLICAS_DIR).iterdir())
        assert [r.name for r in replicas] == ["0", "1"] and all(held(r) for r in replicas)
        with httpx.Client(base_url=url, timeout=60) as client:

            def search(query: str) -> list[str]:
                response = client.post("/api/search", json={"query": query, "k": 3})
                assert response.status_code == 200, response.text
                return [r["doc_id"] for r in response.json()["results"]]

            with ThreadPoolExecutor(8) as pool:
                found = list(pool.map(search, ["refund window"] * 64))
            assert all(docs and docs == found[0] for docs in found)

            job = client.post(
                "/api/documents", files={"file": ("lunar.md", NOTICE, "text/markdown")}
            ).json()
            assert job["state"] == "queued"
            for _ in range(4):  # whichever process answers, the same job
                status = client.get(f"/api/jobs/{job['job_id']}").json()
                assert (status["job_id"], status["state"]) == (job["job_id"], "queued")

            ingest = subprocess.run(
                [sys.executable, "-m", "verirag", "--kb", str(tmp_path / "ingest"), "--catalog",
                 postgres_url, "worker", "--once"],
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert ingest.returncode == 0, ingest.stdout + ingest.stderr
            done = client.get(f"/api/jobs/{job['job_id']}", params={"wait": 10}).json()
            assert done["state"] == "done"
            assert done["report"]["counts"]["new"] == 1

            # Each process's follower applies the commit to its replica within seconds;
            # then every search, whichever process answers it, finds the new document.
            deadline = time.monotonic() + 30
            while not all("lunar.md" in search("blue moon observatory") for _ in range(16)):
                assert time.monotonic() < deadline, "a process did not catch up"
                time.sleep(0.5)
    finally:
        stop(process)
    assert "Traceback" not in log.read_text()
    assert not any(held(r) for r in (path / REPLICAS_DIR).iterdir())  # released on exit


def test_workers_need_a_shared_catalog(tmp_path: Path) -> None:
    path = tmp_path / "kb"
    KnowledgeBase(path).close()
    result = subprocess.run(
        [sys.executable, "-m", "verirag", "--kb", str(path), "serve", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert " ".join(result.stderr.split()) == (
        "--workers needs the catalog on PostgreSQL (--catalog postgresql://...): an embedded "
        "catalog belongs to one process"
    )
