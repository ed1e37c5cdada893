"""BM25 as sparse vectors, for an engine that scores ``query . document`` with an IDF modifier
(Qdrant's ``Modifier.IDF``): a document term's value is BM25's saturated, length-normalised
term frequency, a query term's is how often the query says it, and the engine multiplies in
``ln(1 + (N - n + 0.5) / (n + 0.5))`` from its own counts. No BM25 model is downloaded: the
terms are verirag's own (folded, stemmed, stop words out, :func:`verirag.text.terms`)."""

from __future__ import annotations

import zlib
from collections import Counter
from typing import NamedTuple

from verirag.text import terms


class SparseVector(NamedTuple):
    indices: list[int]
    values: list[float]


def term_id(term: str) -> int:
    """A term's dimension: a stable 32-bit hash (a collision merges two rare terms' counts)."""
    return zlib.crc32(term.encode())


def _sparse(counts: Counter[int], weight: dict[int, float]) -> SparseVector:
    ids = sorted(counts)
    return SparseVector(ids, [weight[i] for i in ids])


def document_vector(text: str, avgdl: float, *, k1: float, b: float) -> SparseVector:
    """``text`` as BM25's document side: ``tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl))``.
    ``avgdl`` is fixed when the point is written (the engine keeps no lengths)."""
    found = [term_id(t) for t in terms(text)]
    counts = Counter(found)
    norm = k1 * (1 - b + b * len(found) / max(avgdl, 1.0))
    return _sparse(counts, {i: n * (k1 + 1) / (n + norm) for i, n in counts.items()})


def query_vector(text: str, *, tf_cap: int) -> SparseVector:
    """``text`` as BM25's query side: each term weighted by how often it is said, up to
    ``tf_cap`` (as Lucene and bm25s weight a repeated query term)."""
    counts = Counter(term_id(t) for t in terms(text))
    return _sparse(counts, {i: float(min(n, tf_cap)) for i, n in counts.items()})


def length(text: str) -> int:
    """The number of terms BM25 counts in ``text`` (its document length)."""
    return len(terms(text))
