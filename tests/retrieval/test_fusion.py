from __future__ import annotations

import pytest

from verirag.retrieval import ScoredChunk, aggregate
from verirag.retrieval.fusion import convex, min_max, rrf


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = rrf([["a", "b"], ["b", "c"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 62)


def test_convex_normalises_each_list_and_weights_them() -> None:
    dense = {"a": 0.9, "b": 0.5, "c": 0.1}
    bm25 = {"b": 12.0, "d": 4.0}
    fused = convex(dense, bm25, alpha=0.25)
    assert fused["a"] == pytest.approx(0.25 * 1.0)
    assert fused["b"] == pytest.approx(0.25 * 0.5 + 0.75 * 1.0)
    assert fused["d"] == pytest.approx(0.0)
    assert min_max({"x": 3.0}) == {"x": 1.0}


def test_aggregate_max_and_sum() -> None:
    chunks = [
        ScoredChunk("d1", 1, "c1", 0, 0.5),
        ScoredChunk("d1", 1, "c2", 1, 0.4),
        ScoredChunk("d2", 1, "c3", 0, 0.7),
    ]
    assert aggregate(chunks, "max") == [("d2", 0.7), ("d1", 0.5)]
    assert aggregate(chunks, "sum") == [("d1", pytest.approx(0.9)), ("d2", 0.7)]
    with pytest.raises(ValueError):
        aggregate(chunks, "mean")
