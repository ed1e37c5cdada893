"""What only the Qdrant collection keeps: the chunk lengths BM25's running mean is made of
survive a reader's refresh of the published state between a write and its publish."""

from __future__ import annotations

from pathlib import Path

from tests.index.test_contract import point
from verirag.index import open_index
from verirag.index.qdrant_server import QdrantIndex


def test_unpublished_lengths_survive_a_refresh(tmp_path: Path) -> None:
    index = open_index(f"qdrant+local:{tmp_path / 'q'}", 8, "test")
    assert isinstance(index, QdrantIndex)
    index.upsert([point("a.md", 1, 0, "one two three", 1), point("b.md", 1, 1, "four five", 1)])
    assert index.watermark == 0  # a reader reads the published state meanwhile
    index.upsert([point("c.md", 1, 2, "six", 1)])
    index.set_watermark(1)
    published = index._read_state()
    assert published is not None
    assert (published["chunks"], published["terms"]) == (3, 6)
    index.close()
