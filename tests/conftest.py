from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from verirag import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample"


def run_verirag(kb_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``verirag --kb KB ARGS`` as a user runs it, in its own process; wide enough that Rich
    does not wrap what the tests read."""
    return subprocess.run(
        [sys.executable, "-m", "verirag", "--kb", str(kb_path), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "250"},
    )


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    with KnowledgeBase(tmp_path / "kb") as opened:
        yield opened


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path
