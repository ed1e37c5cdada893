from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import postgres
from verirag import Config, KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample"


def run_verirag(kb_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``verirag --kb KB ARGS`` as a user runs it, in its own process, its output piped (so
    never wrapped)."""
    return subprocess.run(
        [sys.executable, "-m", "verirag", "--kb", str(kb_path), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    with KnowledgeBase(tmp_path / "kb") as opened:
        yield opened


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 for this test run (its URL without a database)."""
    started = postgres.server()
    try:
        base = started.__enter__()
    except postgres.Unavailable as exc:
        if os.environ.get("VERIRAG_REQUIRE_POSTGRES"):  # ./test.sh, where it is installed
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield base
    finally:
        started.__exit__(None, None, None)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A new, empty database on the test run's PostgreSQL server."""
    return postgres.new_database(postgres_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest) -> str | None:
    """Each catalog database: SQLite in the knowledge base's directory (``None``), and a new
    database on the test run's PostgreSQL server."""
    if request.param == "sqlite":
        return None
    return postgres.new_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def config(catalog_url: str | None) -> Config:
    """The default settings, with the catalog on each database in turn."""
    return Config(catalog=catalog_url)


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
