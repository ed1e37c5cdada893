"""Embedding: a small Protocol, backends chosen by a spec string, embedding through the cache.

Specs: ``minilm`` (default: all-MiniLM-L6-v2 int8 ONNX, no torch), ``st:NAME_OR_PATH``
(any sentence-transformers model), ``openai:MODEL@BASE_URL`` (any OpenAI-compatible
embeddings endpoint; the key is read from ``$OPENAI_API_KEY`` or the variable named by
``VERIRAG_EMBEDDINGS_KEY_ENV``).
"""

from __future__ import annotations

from verirag.embedding._base import (
    Embedder,
    Vectors,
    batches_longest_first,
    normalise,
    pad_encodings,
)
from verirag.embedding.cache import CachedEmbedder, embed_cached

__all__ = [
    "CachedEmbedder",
    "Embedder",
    "Vectors",
    "batches_longest_first",
    "embed_cached",
    "load_embedder",
    "normalise",
    "pad_encodings",
]

DEFAULT_EMBEDDER = "minilm"


def load_embedder(spec: str = DEFAULT_EMBEDDER, *, threads: int | None = None) -> Embedder:
    """An embedder from its spec string (see the module docstring)."""
    if spec in ("minilm", "all-MiniLM-L6-v2"):
        from verirag.embedding.onnx import OnnxEmbedder

        return OnnxEmbedder.minilm(threads=threads)
    kind, _, rest = spec.partition(":")
    if kind == "st" and rest:
        from verirag.embedding.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(rest)
    if kind == "openai" and rest:
        from verirag.embedding.openai import OpenAIEmbedder

        model, _, base_url = rest.partition("@")
        return OpenAIEmbedder(model, base_url or "https://api.openai.com/v1")
    raise ValueError(
        f"unknown embedder {spec!r}: use 'minilm', 'st:NAME_OR_PATH' or 'openai:MODEL@BASE_URL'"
    )
