"""Background jobs: the server's one writer. Ingestion, uploads, removals, re-indexing and
folder watching run here, one at a time and in the order they came, while every reader goes
on at the index's last published state. A job reports files and chunks done, its rate and
an ETA; it can be cancelled between two documents, which keeps what was committed (whole
documents) and never makes half of one visible."""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from verirag.errors import NotFound, VeriragError
from verirag.ingest import IngestReport, Outcome
from verirag.store import JobQueue

KEEP = 200  # finished jobs kept for their status; older ones are forgotten
log = logging.getLogger(__name__)


class State(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = {State.DONE, State.FAILED, State.CANCELLED}


class Cancelled(VeriragError):
    """Raised inside a job's progress callback once the job is cancelled."""


@dataclass
class Job:
    """One unit of writing, with what it has done so far."""

    kind: str
    description: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    state: State = State.QUEUED
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    files_done: int = 0
    files_total: int | None = None
    chunks_done: int = 0
    chunks_total: int | None = None
    error: str | None = None
    failure: Exception | None = field(default=None, repr=False)  # what ``error`` says
    report: IngestReport | None = None
    seq: int = 0  # bumped on every change: the event stream sends each state once
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def update(self, **values: Any) -> None:
        with self.changed:
            for key, value in values.items():
                setattr(self, key, value)
            self.seq += 1
            self.changed.notify_all()

    def on_file(self, _outcome: Outcome, done: int, total: int) -> None:
        """An ingest's per-document progress; where a cancelled job stops."""
        self._progress(files_done=done, files_total=total)

    def on_chunks(self, done: int, total: int) -> None:
        self._progress(chunks_done=done, chunks_total=total)

    def _progress(self, **values: int) -> None:
        self.update(**values)
        if self.cancel_requested.is_set():
            raise Cancelled("cancelled")

    def wait(self, timeout: float) -> bool:
        """Until the job ends or ``timeout`` seconds pass; whether it ended."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.state not in FINAL:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True

    def next_change(self, seen: int, timeout: float) -> int:
        """Wait until the job changes past ``seen`` (or ``timeout``); its ``seq`` now."""
        with self.changed:
            if self.seq == seen and self.state not in FINAL:
                self.changed.wait(timeout)
            return self.seq

    def status(self) -> dict[str, Any]:
        """The job as the API reports it: counts, rate (files/s) and ETA (s) when known."""
        with self.changed:
            elapsed = (self.finished_at or time.time()) - (self.started_at or time.time())
            rate = self.files_done / elapsed if self.started_at and elapsed > 0 else None
            eta = None
            if rate and self.files_total is not None and self.state is State.RUNNING:
                eta = max(self.files_total - self.files_done, 0) / rate
            return {
                "job_id": self.id,
                "kind": self.kind,
                "description": self.description,
                "state": self.state.value,
                "created_at": self.created_at,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "files_done": self.files_done,
                "files_total": self.files_total,
                "chunks_done": self.chunks_done,
                "chunks_total": self.chunks_total,
                "files_per_s": rate,
                "eta_s": eta,
                "error": self.error,
                "report": self.report.to_json() if self.report is not None else None,
                "seq": self.seq,
            }


class JobView(Protocol):
    """What the API reads of a job: this process's (:class:`Job`) or the catalog's queue's
    (:class:`Queued`)."""

    def status(self) -> dict[str, Any]: ...

    def wait(self, timeout: float) -> bool: ...

    def next_change(self, seen: int, timeout: float) -> int: ...


Work = Callable[[Job], IngestReport | None]


class Jobs:
    """The writer: a thread running submitted jobs one at a time, in order."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._work: dict[str, Work] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="verirag-writer", daemon=True)
        self._thread.start()

    def submit(self, kind: str, description: str, work: Work) -> Job:
        job = Job(kind, description)
        with self._lock:
            self._jobs[job.id] = job
            self._work[job.id] = work
            finished = [j for j in self._jobs.values() if j.state in FINAL]
            for old in finished[: max(len(finished) - KEEP, 0)]:
                del self._jobs[old.id]
        self._queue.put(job.id)
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> Job:
        """Ask a job to stop: a queued one never starts, a running one stops before its
        next document. A finished job stays as it ended."""
        job = self.get(job_id)
        job.cancel_requested.set()
        with self._lock:
            if job.state is State.QUEUED:
                job.update(state=State.CANCELLED, finished_at=time.time())
        return job

    def close(self, timeout: float = 30.0) -> None:
        """Cancel what is queued or running, then stop the writer."""
        for job in self.all():
            if job.state not in FINAL:
                self.cancel(job.id)
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        for job_id in iter(self._queue.get, None):
            with self._lock:
                job = self._jobs.get(job_id)
                work = self._work.pop(job_id, None)
                if job is None or work is None or job.state is not State.QUEUED:
                    continue
                job.update(state=State.RUNNING, started_at=time.time())
            try:
                report = work(job)
            except Cancelled:
                job.update(state=State.CANCELLED, finished_at=time.time())
            except (VeriragError, ValueError, OSError) as exc:
                job.update(state=State.FAILED, error=str(exc), failure=exc, finished_at=time.time())
            except Exception as exc:  # a bug: reported on the job and logged, writer goes on
                log.exception("job %s (%s) failed", job.id, job.kind)
                job.update(
                    state=State.FAILED, error="internal error", failure=exc, finished_at=time.time()
                )
            else:
                job.update(state=State.DONE, report=report, finished_at=time.time())


QUEUE_POLL_S = 0.5
_RANK = {"queued": 0, "running": 1, "done": 2, "failed": 2, "cancelled": 2}


class Queued:
    """A job in the catalog's queue (:class:`verirag.store.JobQueue`: an upload that a
    ``verirag worker`` runs), read as a :class:`Job` is: any server process reports it."""

    def __init__(self, queue: JobQueue, job_id: str) -> None:
        self.queue = queue
        self.id = job_id

    def status(self) -> dict[str, Any]:
        job = self.queue.get(self.id)
        progress = job.progress or {}
        done = int(progress.get("files_done", 0))
        return {
            "job_id": job.job_id,
            "kind": job.kind,
            "description": f"{job.kind} (queued for a worker)",
            "state": job.state,
            "created_at": job.created_at,
            "started_at": None,
            "finished_at": job.finished_at,
            "files_done": done,
            "files_total": progress.get("files_total"),
            "chunks_done": 0,
            "chunks_total": None,
            "files_per_s": None,
            "eta_s": None,
            "error": job.error,
            "report": job.result,
            # Changes with every attempt, file and state; rises within an attempt.
            "seq": job.attempts * 1_000_000 + done * 4 + _RANK.get(job.state, 0),
        }

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while State(self.status()["state"]) not in FINAL:
            if time.monotonic() >= deadline:
                return False
            time.sleep(QUEUE_POLL_S)
        return True

    def next_change(self, seen: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if status["seq"] != seen or State(status["state"]) in FINAL:
                return int(status["seq"])
            if time.monotonic() >= deadline:
                return seen
            time.sleep(QUEUE_POLL_S)
