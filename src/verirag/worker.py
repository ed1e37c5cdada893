"""``verirag worker``: ingestion jobs from the catalog's queue, run by any number of worker
processes on any number of machines (the cluster profile, docs/deploy.md).

A worker claims a job (:class:`verirag.store.JobQueue`), keeps its lease with a heartbeat
thread while it ingests, and marks it done. Killed mid-job, it stops beating and another
worker claims the job once the lease runs out: each document is committed whole, the ones
already committed come back unchanged, and the index writer's lock (held by a connection the
server drops with the killed process) lets the next writer publish what was committed."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import TYPE_CHECKING, Any

from verirag.config import UPLOADS_DIR
from verirag.errors import VeriragError
from verirag.ingest import save_upload, upload_name

if TYPE_CHECKING:
    from verirag.ingest import Outcome
    from verirag.kb import KnowledgeBase
    from verirag.store import QueuedJob

LEASE_S = 30.0  # a job whose worker has not beaten for this long is claimed again
POLL_S = 1.0
log = logging.getLogger(__name__)


class LeaseLost(VeriragError):
    """Another worker took the job over (this one was too slow to renew its lease)."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_job(kb: KnowledgeBase, job: QueuedJob, worker: str, lease_s: float = LEASE_S) -> bool:
    """Ingest the files of ``job`` (claimed by ``worker``); ``True`` once it is marked done."""
    stop_beating = threading.Event()
    lost = threading.Event()
    progress: dict[str, Any] = {"files_done": 0, "files_total": None}

    def beat() -> None:
        while not stop_beating.wait(lease_s / 3):
            if not kb.jobs.heartbeat(job.job_id, worker, dict(progress)):
                lost.set()
                return

    def on_file(_outcome: Outcome, done: int, total: int) -> None:
        progress.update(files_done=done, files_total=total)
        if lost.is_set():
            raise LeaseLost(f"job {job.job_id} was taken over by another worker")

    beater = threading.Thread(target=beat, name=f"heartbeat-{job.job_id[:8]}", daemon=True)
    beater.start()
    try:
        uploads = kb.path / UPLOADS_DIR
        targets = [
            save_upload(uploads, upload_name(name), data)
            for name, data in kb.jobs.files(job.job_id)
        ]
        report = kb.ingest(
            *targets,
            access=job.options.get("access"),
            metadata=job.options.get("metadata"),
            sidecars=False,
            on_progress=on_file,
        )
    except LeaseLost as exc:
        log.warning("%s", exc)
        return False
    except Exception as exc:  # the job fails (and is retried); the worker goes on
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.error("job %s failed: %s", job.job_id, reason)
        kb.jobs.fail(job.job_id, worker, reason)
        return False
    finally:
        stop_beating.set()
        beater.join()
    return kb.jobs.finish(job.job_id, worker, report.to_json())


def work(
    kb: KnowledgeBase,
    *,
    name: str | None = None,
    lease_s: float = LEASE_S,
    poll_s: float = POLL_S,
    stop: threading.Event | None = None,
    once: bool = False,
) -> int:
    """Take jobs until ``stop`` is set (or, with ``once``, until the queue is empty); returns
    how many this worker finished."""
    worker = name or worker_name()
    stop = stop or threading.Event()
    finished = 0
    while not stop.is_set():
        job = kb.jobs.claim(worker, lease_s)
        if job is None:
            if once:
                break
            stop.wait(poll_s)
            continue
        log.info("%s took job %s (attempt %d)", worker, job.job_id, job.attempts)
        finished += run_job(kb, job, worker, lease_s)
    return finished
