"""The catalog tests run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from verirag import Config, KnowledgeBase


@pytest.fixture
def kb(tmp_path: Path, config: Config) -> Iterator[KnowledgeBase]:
    with KnowledgeBase(tmp_path / "kb", config=config) as opened:
        yield opened
