"""Vectors cached by (model, hash of the embedded text): unchanged text is never embedded twice."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from verirag.store import schema as s
from verirag.store.db import Database, insert_ignore

Vectors = npt.NDArray[np.float32]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class VectorCache:
    """The ``embedding_cache`` table."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine

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
        with self.engine.begin() as conn:
            insert_ignore(conn, s.embedding_cache, rows)
