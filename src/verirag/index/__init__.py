"""The index: derived from the catalog, rebuildable, queried with filters inside the engine.

Each point is one chunk of one document version and carries ``valid_from``/``valid_to``
commit sequence numbers. A query reads at a sequence S (the index watermark, or the one in
force at an as-of time) and sees exactly the points with ``valid_from <= S < valid_to``. New
points are written with a ``valid_from`` above the watermark, superseded ones are closed, and
only then does the watermark advance: that one step switches a document to its new version,
so no query ever sees a mix of two versions.
"""

from __future__ import annotations

from verirag.index._base import OPEN, Filters, Hit, Index, IndexPoint, Scope, check_filters
from verirag.index.sync import OPTIMIZE_AFTER, OPTIMIZE_EVERY, Embed, EmbedProgress, sync

__all__ = [
    "OPEN",
    "OPTIMIZE_AFTER",
    "OPTIMIZE_EVERY",
    "Embed",
    "EmbedProgress",
    "Filters",
    "Hit",
    "Index",
    "IndexPoint",
    "Scope",
    "check_filters",
    "open_index",
    "sync",
]


def open_index(
    path: str, dim: int, model_id: str, *, quantization: bool = True, on_disk: bool = True
) -> Index:
    from verirag.index.qdrant_edge import EdgeIndex

    return EdgeIndex(path, dim=dim, model_id=model_id, quantization=quantization, on_disk=on_disk)
