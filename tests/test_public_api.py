"""The public API is what ``verirag.__all__`` says, and every name in it exists."""

from __future__ import annotations

import verirag


def test_all_names_exist_and_are_sorted() -> None:
    for name in verirag.__all__:
        assert hasattr(verirag, name), name
    assert list(verirag.__all__) == sorted(verirag.__all__)


def test_public_names_are_exactly_all() -> None:
    public = {n for n in vars(verirag) if not n.startswith("_")}
    modules = {
        "catalog",
        "chunking",
        "config",
        "documents",
        "embedding",
        "index",
        "ingest",
        "kb",
        "results",
        "retrieval",
        "cli",
    }
    assert public - modules == set(verirag.__all__) - {"__version__"}
