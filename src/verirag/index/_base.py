from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

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


@dataclass(frozen=True, slots=True)
class Scope:
    """What a query may see: the catalog state at ``seq``, the principal's groups
    (``None``: unrestricted, for trusted local callers), and optional narrowing filters."""

    seq: int
    groups: Sequence[str] | None = None
    doc_ids: Sequence[str] | None = None
    metadata: dict[str, Any] | None = None
    chunk_ids: Sequence[str] | None = None


class Hit(NamedTuple):
    doc_id: str
    version: int
    chunk_id: str
    ordinal: int
    score: float


class Index(Protocol):
    model_id: str

    @property
    def watermark(self) -> int: ...

    def set_watermark(self, seq: int) -> None: ...

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
