"""Fusing ranked lists: reciprocal rank fusion and min-max normalised convex combination."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def rrf(rankings: Sequence[Sequence[K]], k: int = 60) -> dict[K, float]:
    """Reciprocal rank fusion: ``sum 1 / (k + rank)`` over the lists an item appears in."""
    fused: dict[K, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: Mapping[K, float]) -> dict[K, float]:
    """Scale one list's scores to [0, 1] (all equal -> 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return dict.fromkeys(scores, 1.0)
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def convex(
    dense: Mapping[K, float], lexical: Mapping[K, float], alpha: float = 0.5
) -> dict[K, float]:
    """``alpha * dense + (1 - alpha) * lexical`` on per-query min-max normalised scores; an
    item missing from one list scores 0 there."""
    a, b = min_max(dense), min_max(lexical)
    return {
        key: alpha * a.get(key, 0.0) + (1 - alpha) * b.get(key, 0.0) for key in a.keys() | b.keys()
    }
