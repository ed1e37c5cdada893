"""The watermark is the atomic switch: until it moves, queries see only the old version."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from verirag.index import OPEN, IndexPoint, Scope
from verirag.index.qdrant_edge import EdgeIndex


def point(
    version: int, ordinal: int, text: str, valid_from: int, valid_to: int = OPEN
) -> IndexPoint:
    vector = np.zeros(8, dtype=np.float32)
    vector[ordinal] = 1.0
    return IndexPoint(
        "policy.md",
        version,
        f"v{version}c{ordinal}",
        ordinal,
        text,
        vector,
        valid_from,
        valid_to,
        ["public"],
    )


def test_no_query_sees_a_mix_of_two_versions(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path / "ix", dim=8, model_id="test")
    index.upsert([point(1, 0, "refunds thirty days", 1), point(1, 1, "exchanges thirty days", 1)])
    index.set_watermark(1)

    # Version 2 is being applied at commit 2: new points in, old ones closed...
    index.upsert(
        [point(2, 0, "refunds fourteen days", 2), point(2, 1, "exchanges fourteen days", 2)]
    )
    index.close_version("policy.md", 1, 2)
    live = Scope(index.watermark)
    versions = {h.version for h in index.text("days", 10, live)}
    assert versions == {1}, "before the watermark moves, only version 1"
    assert {h.version for h in index.dense(np.ones(8, dtype=np.float32), 10, live)} == {1}

    index.set_watermark(2)  # ...and published in one step.
    assert {h.version for h in index.text("days", 10, Scope(index.watermark))} == {2}
    assert {h.version for h in index.text("days", 10, Scope(1))} == {1}  # as of commit 1
    index.close()

    reopened = EdgeIndex(tmp_path / "ix", dim=8, model_id="test")
    assert reopened.watermark == 2
    assert reopened.count(Scope(2)) == 2
    reopened.close()


def test_a_different_model_requires_reindex(tmp_path: Path) -> None:
    EdgeIndex(tmp_path / "ix", dim=8, model_id="a").close()
    try:
        EdgeIndex(tmp_path / "ix", dim=8, model_id="b")
    except ValueError as exc:
        assert "verirag reindex" in str(exc)
    else:
        raise AssertionError("opening with another model must fail")
