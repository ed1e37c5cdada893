"""Embedding through the vector cache: unchanged text is never embedded twice."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from verirag.embedding._base import Embedder, Vectors
from verirag.store.vectors import VectorCache, text_key


def embed_cached(
    embedder: Embedder, cache: VectorCache, texts: Sequence[str]
) -> tuple[Vectors, int]:
    """Vectors for ``texts``, embedding only the ones not cached; also returns how many were."""
    keys = [text_key(t) for t in texts]
    found = cache.get(embedder.model_id, sorted(set(keys)))
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
    if missing:
        fresh = embedder.embed([t for _, t in missing])
        cache.put(embedder.model_id, [k for k, _ in missing], fresh)
        found.update({k: v for (k, _), v in zip(missing, fresh, strict=True)})
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        out[row] = found[key]
    return out, len(missing)


class CachedEmbedder:
    """An :class:`Embedder` that looks in the cache first (answer sentences: the same chunks
    come back for many questions, so their sentences are embedded once)."""

    def __init__(self, embedder: Embedder, cache: VectorCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.model_id = embedder.model_id
        self.dim = embedder.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors, _ = embed_cached(self.embedder, self.cache, texts)
        return vectors
