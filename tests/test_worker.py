"""Ingestion workers on a shared PostgreSQL catalog: any worker takes any job, a job is run by
one worker at a time, and a worker killed mid-job (kill -9 of its process group) leaves the
job to another, which completes it: ``check`` passes and no document is lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from verirag import Config, KnowledgeBase
from verirag.store import Database, Store, schema
from verirag.worker import work

FILES = 400


def note(i: int) -> tuple[str, bytes]:
    text = f"# Note {i}\n\nNote {i} records that ticket {i * 7} was closed by team {i % 13}.\n"
    return f"note-{i:04d}.md", text.encode()


def worker(kb_dir: Path, url: str, *extra: str) -> subprocess.Popen[str]:
    """``verirag worker`` in a process group of its own (its parse workers with it), its
    output in ``KB_DIR.log`` (a pipe nobody reads would block it once full)."""
    log = kb_dir.with_suffix(".log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "verirag", "--kb", str(kb_dir), "--catalog", url, "worker", *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(condition, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_job_survives_its_worker_being_killed(tmp_path: Path, postgres_url: str) -> None:
    store = Store(Database(postgres_url))
    job_id = store.jobs.submit([note(i) for i in range(FILES)], access=["staff"])

    def documents() -> int:
        with store.db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.documents)).scalar())

    first = worker(tmp_path / "a", postgres_url, "--lease", "3")
    try:
        wait_for(lambda: store.jobs.get(job_id).state == "running")
        taken_by = store.jobs.get(job_id).worker
        second = worker(tmp_path / "b", postgres_url, "--lease", "3")
        wait_for(lambda: documents() >= 5)  # mid-job: some documents committed...
        os.killpg(first.pid, signal.SIGKILL)  # ...and the machine dies
        first.wait(30)
        assert 0 < documents() < FILES, "the kill came mid-job"
        wait_for(lambda: store.jobs.get(job_id).state == "done", timeout=300)
    finally:
        for p, kb_dir in ((first, "a"), (locals().get("second"), "b")):
            if p is not None and p.poll() is None:
                # SIGTERM, as a service manager stops it (a test run started in the
                # background inherits SIGINT ignored, and so would the worker).
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    log = (tmp_path / f"{kb_dir}.log").read_text()[-3000:]
                    message = f"worker {kb_dir} ignored SIGTERM for 60 s:\n{log}"
                    raise AssertionError(message) from None
                assert p.returncode == 0, (tmp_path / f"{kb_dir}.log").read_text()[-3000:]

    job = store.jobs.get(job_id)
    assert job.attempts == 2 and job.worker != taken_by
    assert job.result is not None and job.result["counts"]["failed"] == 0
    assert store.jobs.files(job_id) == []  # dropped once done

    with KnowledgeBase(tmp_path / "reader", config=Config(catalog=postgres_url)) as kb:
        assert kb.check() == []
        listed = kb.documents()
        assert sorted(d.doc_id for d in listed) == [note(i)[0] for i in range(FILES)]
        assert {d.latest_version for d in listed} == {1}  # none committed twice
        assert {tuple(d.access) for d in listed} == {("staff",)}
        hit = kb.search("ticket 2737 closed", k=1, groups=["staff"])[0]
        assert hit.doc_id == "note-0391.md"
        assert kb.search("ticket 2737 closed", k=1, groups=[]) == []
    store.close()


def test_a_broken_file_is_an_outcome_of_its_job_and_the_queue_goes_on(
    tmp_path: Path, postgres_url: str
) -> None:
    with KnowledgeBase(tmp_path / "kb", config=Config(catalog=postgres_url)) as kb:
        bad = kb.jobs.submit([("broken.pdf", b"%PDF-1.4 not really"), note(0)])
        good = [kb.jobs.submit([note(i)]) for i in range(1, 3)]
        assert work(kb, name="w1", once=True) == 3
        assert [kb.jobs.get(j).state for j in good] == ["done"] * 2
        failed = kb.jobs.get(bad)
        assert failed.state == "done" and failed.result is not None
        assert failed.result["counts"]["failed"] == 1 and failed.result["counts"]["new"] == 1
        assert len(kb.documents()) == 3
