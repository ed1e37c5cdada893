"""A long batch builds the index as it goes: new points wait unbuilt (held in memory, searched
by brute force) for at most ``OPTIMIZE_EVERY`` chunks, however large the batch."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import verirag.index
import verirag.kb
from verirag import KnowledgeBase, TextRecord
from verirag.index import Scope

EVERY = 12


DEPOTS = ["north", "south", "east"]


def records(n: int) -> list[TextRecord]:
    """Small documents: one chunk each."""
    return [
        TextRecord(f"r{i}.md", f"Report {i}: the {DEPOTS[i % 3]} depot holds item {i * 7}.")
        for i in range(n)
    ]


@pytest.fixture
def builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[KnowledgeBase, list[int]]:
    """A knowledge base whose index records how many points it held at each build (the real
    build runs), with a build due every ``EVERY`` chunks."""
    monkeypatch.setattr(verirag.index, "OPTIMIZE_EVERY", EVERY)
    # The module, not the function the package re-exports under the same name.
    monkeypatch.setattr(sys.modules["verirag.index.sync"], "OPTIMIZE_EVERY", EVERY)
    monkeypatch.setattr(verirag.kb, "PIPELINE_CHUNKS", 4)  # publish often enough to see it
    kb = KnowledgeBase(tmp_path / "kb")
    index = kb.index
    sizes: list[int] = []
    build = index.optimize

    def counted() -> None:
        # Points written so far, published or not (a catch-up publishes at its end).
        sizes.append(index.count(Scope(kb.catalog.last_seq())))
        build()

    monkeypatch.setattr(index, "optimize", counted)
    return kb, sizes


def assert_built_as_it_went(sizes: list[int], chunks: int) -> None:
    """Never more than ``EVERY`` chunks (plus one publish of 4) between builds."""
    gaps = [b - a for a, b in zip([0, *sizes], [*sizes, chunks], strict=True)]
    assert len(sizes) >= 4 and max(gaps) <= EVERY + 4, sizes


def test_a_long_batch_builds_every_so_many_chunks(
    builds: tuple[KnowledgeBase, list[int]],
) -> None:
    kb, sizes = builds
    report = kb.ingest_texts(records(60))
    chunks = sum(o.n_chunks for o in report.outcomes)
    assert chunks == 60
    assert_built_as_it_went(sizes, chunks)
    assert kb.search("which depot holds item 203", k=1)[0].doc_id == "r29.md"
    kb.close()


def test_catching_up_with_the_catalog_builds_as_it_goes(
    builds: tuple[KnowledgeBase, list[int]],
) -> None:
    kb, sizes = builds
    report = kb.ingest_texts(records(60), index=False)
    chunks = sum(o.n_chunks for o in report.outcomes)
    assert not sizes
    kb.sync_index(batch=4)
    assert_built_as_it_went(sizes, chunks)
    assert kb.search("which depot holds item 203", k=1)[0].doc_id == "r29.md"
    kb.close()
