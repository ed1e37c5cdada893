"""A query at the watermark leaves out the validity range's lower bound only while no point is
newer than the watermark: points of an unpublished commit stay invisible, whether written
before the query or while it runs, and after a crash they are forgotten on open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from verirag.index import OPEN, IndexPoint, Scope
from verirag.index.qdrant_edge import EdgeIndex


def point(version: int, ordinal: int, text: str) -> IndexPoint:
    vector = np.zeros(8, dtype=np.float32)
    vector[ordinal] = 1.0
    return IndexPoint(
        "policy.md", version, f"v{version}c{ordinal}", ordinal, text, vector, version, OPEN,
        ["public"],
    )  # fmt: skip


V1 = [point(1, 0, "refunds thirty days"), point(1, 1, "exchanges thirty days")]
V2 = [point(2, 0, "refunds fourteen days"), point(2, 1, "exchanges fourteen days")]


def published(path: Path) -> EdgeIndex:
    index = EdgeIndex(path, dim=8, model_id="test")
    index.upsert(V1)
    index.set_watermark(1)
    return index


def versions(index: EdgeIndex, scope: Scope) -> set[int]:
    dense = index.dense(np.ones(8, dtype=np.float32), 10, scope)
    text = index.text("refunds exchanges days", 10, scope)
    return {h.version for h in dense + text}


def test_points_of_an_unpublished_commit_are_not_seen(tmp_path: Path) -> None:
    index = published(tmp_path / "ix")
    assert versions(index, Scope(1)) == {1}
    index.upsert(V2)  # commit 2 being applied, not yet published
    assert versions(index, Scope(index.watermark)) == {1}
    index.set_watermark(2)
    assert versions(index, Scope(2)) == {2, 1}  # v1 is not closed in this test
    index.close()


class WriteDuringQuery:
    """The shard, with a write of version 2 landing while the first query runs."""

    def __init__(self, index: EdgeIndex) -> None:
        self.index, self.shard, self.queries = index, index.shard, 0

    def query(self, request: Any) -> Any:
        self.queries += 1
        if self.queries == 1:
            self.index.shard = self.shard
            self.index.upsert(V2)
            self.index.shard = self  # type: ignore[assignment]
        return self.shard.query(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.shard, name)


def test_a_write_that_begins_during_a_query_is_not_seen(tmp_path: Path) -> None:
    index = published(tmp_path / "ix")
    shard = WriteDuringQuery(index)
    index.shard = shard  # type: ignore[assignment]
    hits = index.dense(np.ones(8, dtype=np.float32), 10, Scope(1))
    assert {h.version for h in hits} == {1}
    assert shard.queries == 2  # asked again, with the whole validity range
    index.shard = shard.shard
    index.close()


def test_points_written_after_the_durable_watermark_are_forgotten_on_open(
    tmp_path: Path,
) -> None:
    index = published(tmp_path / "ix")
    index.persist()
    index.upsert(V2)
    index.shard.flush()  # on disk, but the crash comes before the watermark is recorded
    index.shard.close()
    reopened = EdgeIndex(tmp_path / "ix", dim=8, model_id="test")
    assert reopened.watermark == 1
    assert reopened.count(Scope(OPEN - 1)) == len(V1)
    assert versions(reopened, Scope(1)) == {1}
    reopened.close()
