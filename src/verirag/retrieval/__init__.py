"""Retrieval: dense and BM25 candidates from the index, fused, optionally re-ranked."""

from verirag.retrieval.rerank import Reranker, load_reranker
from verirag.retrieval.results import ChunkKey, ScoredChunk, SearchResult
from verirag.retrieval.retriever import (
    Fusion,
    Mode,
    Retriever,
    SearchOptions,
    Timings,
    aggregate,
)

__all__ = [
    "ChunkKey",
    "Fusion",
    "Mode",
    "Reranker",
    "Retriever",
    "ScoredChunk",
    "SearchOptions",
    "SearchResult",
    "Timings",
    "aggregate",
    "load_reranker",
]
