"""The job queue on each database: one holder at a time, a lapsed lease taken over (and the
old holder told so), a failing job retried, then failed for good."""

from __future__ import annotations

import time
from pathlib import Path

from verirag import Config
from verirag.store import Database, JobQueue
from verirag.store.db import sqlite_url
from verirag.store.jobs import MAX_ATTEMPTS


def queue(config: Config, tmp_path: Path) -> JobQueue:
    return JobQueue(Database(config.catalog or sqlite_url(tmp_path / "catalog.db")))


def test_one_holder_and_a_lapsed_lease_is_taken_over(config: Config, tmp_path: Path) -> None:
    jobs = queue(config, tmp_path)
    first = jobs.submit([("a.md", b"# A")])
    second = jobs.submit([("b.md", b"# B")])
    taken = jobs.claim("w1", lease_s=60)
    assert taken is not None and taken.job_id == first  # oldest first
    other = jobs.claim("w2", lease_s=60)
    assert other is not None and other.job_id == second  # never the one w1 holds
    assert jobs.claim("w3", lease_s=60) is None
    assert jobs.heartbeat(first, "w1", {"files_done": 1})
    assert jobs.get(first).progress == {"files_done": 1}

    time.sleep(0.3)
    again = jobs.claim("w3", lease_s=0.2)  # neither holder has beaten for the lease
    assert again is not None and again.attempts == 2
    lapsed = "w1" if again.job_id == first else "w2"
    assert not jobs.heartbeat(again.job_id, lapsed)  # the old holder learns it lost the job
    assert not jobs.finish(again.job_id, lapsed, {})
    assert jobs.finish(again.job_id, "w3", {"counts": {}})
    assert jobs.get(again.job_id).state == "done" and jobs.files(again.job_id) == []


def test_a_failing_job_is_retried_then_failed(config: Config, tmp_path: Path) -> None:
    jobs = queue(config, tmp_path)
    job_id = jobs.submit([("a.md", b"# A")])
    for attempt in range(1, MAX_ATTEMPTS + 1):
        taken = jobs.claim(f"w{attempt}", lease_s=60)
        assert taken is not None and taken.attempts == attempt
        jobs.fail(job_id, f"w{attempt}", "the disk is full")
    failed = jobs.get(job_id)
    assert (failed.state, failed.error) == ("failed", "the disk is full")
    assert jobs.claim("w9", lease_s=60) is None


def test_only_a_job_no_worker_holds_is_cancelled(config: Config, tmp_path: Path) -> None:
    jobs = queue(config, tmp_path)
    waiting = jobs.submit([("a.md", b"# A")])
    running = jobs.submit([("b.md", b"# B")])
    assert jobs.cancel(waiting)
    taken = jobs.claim("w1", lease_s=60)
    assert taken is not None and taken.job_id == running  # a cancelled job is never claimed
    assert not jobs.cancel(running)  # it runs to its end
    assert jobs.get(running).state == "running"
    cancelled = jobs.get(waiting)
    assert cancelled.state == "cancelled" and cancelled.finished_at is not None
    assert jobs.files(waiting) == []
    assert not jobs.cancel(waiting)  # once is enough
