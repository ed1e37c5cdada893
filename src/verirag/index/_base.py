from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypedDict

import numpy as np
import numpy.typing as npt

from verirag.errors import InvalidInput
from verirag.store import AsOf

OPEN = 2**53 - 1  # valid_to of a version that is still current (exact in a float payload)


@dataclass(frozen=True, slots=True)
class IndexPoint:
    """One chunk of one document version, as the index stores it."""

    doc_id: str
    version: int
    chunk_id: str
    ordinal: int
    text: str  # breadcrumb + chunk text: what BM25 scores
    vector: npt.NDArray[np.float32]
    valid_from: int
    valid_to: int
    access: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    # The document's current access: a version is found only where both admit the reader
    # (verirag.access), and re-labelled when the document's access changes.
    doc_access: list[str] | None = None  # None: the version's own


_RANGE_KEYS = frozenset({"gte", "gt", "lte", "lt"})
_SCALARS = (str, int, bool)  # what the engine matches exactly; fractions need a range


def check_filters(metadata: Any) -> dict[str, Any] | None:
    """A metadata filter as the index takes it, or :class:`InvalidInput` saying what is
    wrong: each value is a string, integer or boolean (exact), a non-empty list of them (any
    of), or a range ``{"gte"|"gt"|"lte"|"lt": number or RFC 3339 date}``."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InvalidInput(f"filters must be an object, not {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidInput("a filter key must be a non-empty string")
        if isinstance(value, dict):
            if not value or not value.keys() <= _RANGE_KEYS:
                raise InvalidInput(
                    f"a range on meta.{key} takes gte, gt, lte and lt, not {sorted(value)}"
                )
            bounds = list(value.values())
            numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in bounds)
            if not numbers and not all(isinstance(v, str) for v in bounds):
                raise InvalidInput(f"a range on meta.{key} is over numbers or over dates")
        elif isinstance(value, list):
            if not value or not all(isinstance(v, _SCALARS) for v in value):
                raise InvalidInput(f"{key}: a list filter needs strings, integers or booleans")
        elif not isinstance(value, _SCALARS):
            raise InvalidInput(
                f"{key}: a filter value is a string, integer, boolean, list or range, "
                f"not {'null' if value is None else type(value).__name__}"
            )
    return metadata


@dataclass(frozen=True, slots=True)
class Scope:
    """What a query may see: the catalog state at ``seq``, the principal's groups
    (``None``: unrestricted, for trusted local callers), and optional narrowing filters."""

    seq: int
    groups: Sequence[str] | None = None
    doc_ids: Sequence[str] | None = None
    metadata: dict[str, Any] | None = None
    # (doc_id, version, chunk_id) of the only points to consider: the engine looks them up by
    # id, where a filter on their chunk ids made a text query 5x slower (benchmarks/scale.py).
    points: Sequence[tuple[str, int, str]] | None = None


class Filters(TypedDict, total=False):
    """What a search, an answer or its sources may see: versions valid at ``as_of`` (default:
    the live ones), readable by ``groups`` (a principal's; ``None``: unrestricted), narrowed
    to ``doc_ids`` or by ``metadata`` (exact values, lists of values, ranges)."""

    as_of: AsOf | None
    groups: Sequence[str] | None
    doc_ids: Sequence[str] | None
    metadata: dict[str, Any] | None


class Hit(NamedTuple):
    doc_id: str
    version: int
    chunk_id: str
    ordinal: int
    score: float


def to_hits(points: Sequence[Any]) -> list[Hit]:
    """Hits from an engine's scored points (Qdrant Edge's and qdrant-client's alike: a payload
    with the fields below, and a score)."""
    found = []
    for p in points:
        payload = p.payload or {}
        found.append(
            Hit(
                payload["doc_id"],
                int(payload["version"]),
                payload["chunk_id"],
                int(payload["ordinal"]),
                float(p.score),
            )
        )
    return found


class Index(Protocol):
    model_id: str
    # Seconds a published watermark may stay unflushed (0: every publish is flushed). Readers
    # see a publish at once either way; a crash loses only index work the catalog replays.
    durable_every: float

    @property
    def watermark(self) -> int: ...

    def set_watermark(self, seq: int) -> None: ...

    def persist(self) -> None:
        """Make everything published so far durable."""
        ...

    @property
    def horizon(self) -> int:
        """Points closed at or before this commit are compacted away: a query at an older
        commit is refused (:class:`verirag.errors.OutsideHistory`)."""
        ...

    def compact(self, horizon: int) -> int:
        """Delete the points closed at or before ``horizon``; returns how many."""
        ...

    def upsert(self, points: Sequence[IndexPoint]) -> None: ...

    def close_version(self, doc_id: str, version: int, valid_to: int) -> None: ...

    def relabel(self, doc_id: str, doc_access: Sequence[str]) -> None:
        """Give every point of ``doc_id`` (all versions) the document's current access."""
        ...

    def dense(
        self, vector: npt.NDArray[np.float32], limit: int, scope: Scope, *, exact: bool = False
    ) -> list[Hit]: ...

    def text(self, query: str, limit: int, scope: Scope) -> list[Hit]: ...

    def count(self, scope: Scope) -> int: ...

    def optimize(self) -> None: ...

    def close(self) -> None: ...
