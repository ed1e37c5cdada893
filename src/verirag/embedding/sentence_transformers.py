"""Any sentence-transformers model by name or path (needs the ``sentence-transformers`` package)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from verirag.embedding._base import Vectors, normalise


class SentenceTransformerEmbedder:
    def __init__(self, name_or_path: str, *, device: str | None = None) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RuntimeError(
                "st: embedders need sentence-transformers; install torch==2.13.0 first, then "
                "`pip install sentence-transformers` (or `pip install 'verirag[train]'`)"
            ) from exc
        # local_files_only: a missing model is an error here, never a download.
        self.model: Any = SentenceTransformer(
            name_or_path, device=device, model_kwargs={"local_files_only": True}
        )
        self.model_id = f"st:{name_or_path}"
        self.dim = int(self.model.get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), convert_to_numpy=True, show_progress_bar=False)
        return normalise(np.asarray(vectors, dtype=np.float32))
