"""The index: derived from the catalog, rebuildable, queried with filters inside the engine.

Each point is one chunk of one document version and carries ``valid_from``/``valid_to``
commit sequence numbers. A query reads at a sequence S (the index watermark, or the one in
force at an as-of time) and sees exactly the points with ``valid_from <= S < valid_to``. New
points are written with a ``valid_from`` above the watermark, superseded ones are closed, and
only then does the watermark advance: that one step switches a document to its new version,
so no query ever sees a mix of two versions.
"""

from __future__ import annotations

from verirag.errors import InvalidInput
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
    where: str, dim: int, model_id: str, *, quantization: bool = True, on_disk: bool = True
) -> Index:
    """The index at ``where``: a directory (the embedded Qdrant Edge shard), or the URL of a
    Qdrant collection (``qdrant://HOST:PORT/COLLECTION``, ``qdrant+local:PATH``)."""
    if where.startswith(("qdrant://", "qdrants://", "qdrant+local:")):
        try:
            from verirag.index.qdrant_server import QdrantIndex, parse_url
        except ImportError as exc:  # the cluster extra is not installed
            raise InvalidInput(
                f"{where} needs qdrant-client: pip install 'verirag[cluster]' ({exc.name})"
            ) from None
        client, collection, cluster = parse_url(where)
        return QdrantIndex(
            client,
            collection,
            dim=dim,
            model_id=model_id,
            quantization=quantization,
            on_disk=on_disk,
            cluster=cluster,
        )
    from verirag.index.qdrant_edge import EdgeIndex

    return EdgeIndex(where, dim=dim, model_id=model_id, quantization=quantization, on_disk=on_disk)
