from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, one row per text."""

    model_id: str  # names the vector space: the cache and the index are keyed by it
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def normalise(vectors: npt.NDArray[np.floating]) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def batches_longest_first(lengths: Sequence[int], size: int) -> Iterator[list[int]]:
    """Indices in batches of ``size``, longest first: each batch pads to similar lengths."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    for start in range(0, len(order), size):
        yield order[start : start + size]


def pad_encodings(encodings: Sequence[Any]) -> dict[str, npt.NDArray[np.int64]]:
    """``input_ids``, ``token_type_ids`` and ``attention_mask`` of ``tokenizers`` encodings,
    right-padded with zeros to the longest: the inputs of a BERT-style ONNX or torch model."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n] = e.ids
        types[row, :n] = e.type_ids
        mask[row, :n] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
