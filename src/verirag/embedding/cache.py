"""Vectors cached by (model, hash of the embedded text): unchanged text is never embedded twice."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Engine, select

from verirag.catalog import schema as s
from verirag.embedding._base import Embedder, Vectors


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class EmbeddingCache:
    """The ``embedding_cache`` table of the catalog database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, model_id: str, keys: Sequence[str]) -> dict[str, Vectors]:
        found: dict[str, Vectors] = {}
        table = s.embedding_cache
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                rows = conn.execute(
                    select(table.c.key, table.c.vector).where(
                        table.c.model == model_id, table.c.key.in_(keys[start : start + 500])
                    )
                )
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put(self, model_id: str, keys: Sequence[str], vectors: Vectors) -> None:
        if not keys:
            return
        rows = [
            {"model": model_id, "key": k, "vector": np.asarray(v, dtype=np.float32).tobytes()}
            for k, v in zip(keys, vectors, strict=True)
        ]
        from verirag.catalog.store import insert_ignore

        with self.engine.begin() as conn:
            insert_ignore(conn, s.embedding_cache, rows)


def embed_cached(
    embedder: Embedder, cache: EmbeddingCache, texts: Sequence[str]
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

    def __init__(self, embedder: Embedder, cache: EmbeddingCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.model_id = embedder.model_id
        self.dim = embedder.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors, _ = embed_cached(self.embedder, self.cache, texts)
        return vectors
