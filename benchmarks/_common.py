"""Shared by the benchmarks: where the data sets are, and an evaluation knowledge base per set."""

from __future__ import annotations

import statistics
from pathlib import Path

from verirag import KnowledgeBase
from verirag.evaluation import BeirData, load_beir

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"


def beir_kb(
    name: str, split: str = "test", kb_root: Path | None = None
) -> tuple[KnowledgeBase, BeirData]:
    """The data set, and a knowledge base holding its corpus (ingested once, then reused)."""
    folder = DATA / name
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: the shared data sets live in ../shared/data")
    data = load_beir(folder, split)
    kb = KnowledgeBase((kb_root or ROOT / ".verirag-eval") / name)
    kb.ingest_texts(data.corpus)
    return kb, data


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)
