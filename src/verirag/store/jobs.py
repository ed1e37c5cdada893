"""The ingestion job queue in the catalog: uploads waiting for a ``verirag worker``.

A worker claims the oldest job nobody holds (``SELECT ... FOR UPDATE SKIP LOCKED``: claims on
PostgreSQL never wait for each other) and renews its lease with heartbeats while it works. A
worker killed mid-job stops beating, and the job is claimed again once its lease runs out:
every document is committed whole, so the retry re-ingests the files already done as no-ops
and goes on with the rest. A job that fails ``MAX_ATTEMPTS`` times is failed for good."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update

from verirag.errors import NotFound
from verirag.store import schema as s
from verirag.store.db import Database

MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class QueuedJob:
    job_id: str
    kind: str
    state: str
    created_at: float
    options: dict[str, Any]
    attempts: int
    worker: str | None
    heartbeat_at: float | None
    finished_at: float | None
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    error: str | None


def _job(r: Any) -> QueuedJob:
    return QueuedJob(
        r.job_id,
        r.kind,
        r.state,
        r.created_at,
        dict(r.options),
        r.attempts,
        r.worker,
        r.heartbeat_at,
        r.finished_at,
        r.progress,
        r.result,
        r.error,
    )


class JobQueue:
    """The ``jobs`` and ``job_files`` tables."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def submit(
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        access: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Queue ``files`` (name, bytes) for ingestion as documents named by their names."""
        if not files:
            raise ValueError("a job needs at least one file")
        job_id = uuid.uuid4().hex
        options = {"access": None if access is None else list(access), "metadata": metadata}
        with self.engine.begin() as conn:
            conn.execute(
                s.jobs.insert(),
                {
                    "job_id": job_id,
                    "kind": "upload",
                    "created_at": time.time(),
                    "state": "queued",
                    "options": options,
                    "attempts": 0,
                },
            )
            conn.execute(
                s.job_files.insert(),
                [{"job_id": job_id, "name": name, "data": data} for name, data in files],
            )
        return job_id

    def claim(self, worker: str, lease_s: float) -> QueuedJob | None:
        """The oldest job that is queued, or running with a lease older than ``lease_s``,
        now held by ``worker``; ``None`` when there is none."""
        now = time.time()
        j = s.jobs.c
        claimable = or_(
            j.state == "queued", (j.state == "running") & (j.heartbeat_at < now - lease_s)
        )
        query = (
            select(s.jobs.c.job_id)
            .where(claimable)
            .order_by(j.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as conn:
            job_id = conn.execute(query).scalar_one_or_none()
            if job_id is None:
                return None
            conn.execute(
                update(s.jobs)
                .where(j.job_id == job_id)
                .values(state="running", worker=worker, heartbeat_at=now, attempts=j.attempts + 1)
            )
            return _job(conn.execute(select(s.jobs).where(j.job_id == job_id)).one())

    def heartbeat(self, job_id: str, worker: str, progress: dict[str, Any] | None = None) -> bool:
        """Renew ``worker``'s lease on ``job_id``; ``False`` if the job is no longer its."""
        values: dict[str, Any] = {"heartbeat_at": time.time()}
        if progress is not None:
            values["progress"] = progress
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(s.jobs).where(*self._held(job_id, worker)).values(**values)
            ).rowcount
        return bool(changed)

    @staticmethod
    def _held(job_id: str, worker: str) -> list[Any]:
        j = s.jobs.c
        return [j.job_id == job_id, j.worker == worker, j.state == "running"]

    def files(self, job_id: str) -> list[tuple[str, bytes]]:
        f = s.job_files.c
        query = select(f.name, f.data).where(f.job_id == job_id).order_by(f.name)
        with self.engine.connect() as conn:
            return [(r.name, bytes(r.data)) for r in conn.execute(query)]

    def finish(self, job_id: str, worker: str, result: dict[str, Any]) -> bool:
        """Mark ``worker``'s job done and drop its files; ``False`` if it was not its."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(s.jobs)
                .where(*self._held(job_id, worker))
                .values(state="done", result=result, finished_at=time.time())
            ).rowcount
            if done:
                conn.execute(delete(s.job_files).where(s.job_files.c.job_id == job_id))
        return bool(done)

    def fail(self, job_id: str, worker: str, error: str) -> None:
        """Give the job back to the queue, or fail it for good after ``MAX_ATTEMPTS``."""
        j = s.jobs.c
        with self.engine.begin() as conn:
            job = conn.execute(select(j.attempts).where(*self._held(job_id, worker))).first()
            if job is None:
                return
            final = job.attempts >= MAX_ATTEMPTS
            conn.execute(
                update(s.jobs)
                .where(j.job_id == job_id)
                .values(
                    state="failed" if final else "queued",
                    error=error,
                    worker=None,
                    finished_at=time.time() if final else None,
                )
            )

    def cancel(self, job_id: str) -> bool:
        """Cancel a job no worker has taken yet; ``False`` if one has (it runs to its end)."""
        j = s.jobs.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(s.jobs)
                .where(j.job_id == job_id, j.state == "queued")
                .values(state="cancelled", finished_at=time.time())
            ).rowcount
            if done:
                conn.execute(delete(s.job_files).where(s.job_files.c.job_id == job_id))
        return bool(done)

    def get(self, job_id: str) -> QueuedJob:
        with self.engine.connect() as conn:
            row = conn.execute(select(s.jobs).where(s.jobs.c.job_id == job_id)).first()
        if row is None:
            raise NotFound(f"no job {job_id}")
        return _job(row)

    def all(self, *, limit: int = 100) -> list[QueuedJob]:
        query = select(s.jobs).order_by(s.jobs.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_job(r) for r in conn.execute(query)]
