"""What ingesting a batch did, per document."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    SKIPPED = "skipped"  # not ingested by choice: hidden, excluded, unsupported, too large, empty
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    doc_id: str
    status: Status
    source: str
    version: int | None = None
    n_chunks: int = 0
    reason: str | None = None


@dataclass(slots=True)
class IngestReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> dict[Status, int]:
        found = Counter(o.status for o in self.outcomes)
        return {status: found.get(status, 0) for status in Status}

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is Status.FAILED]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is Status.SKIPPED]

    def to_json(self) -> dict[str, object]:
        """Each document's outcome, and the counts by status."""
        return {
            "outcomes": [
                {
                    "doc_id": o.doc_id,
                    "status": o.status.value,
                    "version": o.version,
                    "chunks": o.n_chunks,
                    "reason": o.reason,
                }
                for o in self.outcomes
            ],
            "counts": {status.value: n for status, n in self.counts().items()},
        }

    def __getitem__(self, doc_id: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.doc_id == doc_id:
                return outcome
        raise KeyError(doc_id)


Progress = Callable[[Outcome, int, int], None]
