"""Shared by the benchmarks: where the data sets are, and an evaluation knowledge base per set."""

from __future__ import annotations

import statistics
from pathlib import Path

from verirag import KnowledgeBase
from verirag.evaluation import BeirData, load_beir
from verirag.evaluation.metrics import percentile
from verirag.retrieval import Reranker

__all__ = ["DATA", "RESULTS", "ROOT", "beir_kb", "median", "percentile"]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"


def beir_kb(
    name: str, split: str = "test", kb_root: Path | None = None, reranker: Reranker | None = None
) -> tuple[KnowledgeBase, BeirData]:
    """The data set, and a knowledge base holding its corpus (ingested once, then reused),
    searching with ``reranker`` when one is given."""
    folder = DATA / name
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: the shared data sets live in ../shared/data")
    data = load_beir(folder, split)
    kb = KnowledgeBase((kb_root or ROOT / ".verirag-eval") / name, reranker=reranker)
    kb.ingest_texts(data.corpus)
    return kb, data


def median(values: list[float]) -> float:
    return statistics.median(values)
