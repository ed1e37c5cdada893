"""Freshness after document changes: the rgb en_fact scenario (100 facts altered, each item
asked over its own passages) and the sample policy scenario (facts changed, a section
removed, a document deleted), each run ``--runs`` times in a fresh knowledge base.

    .venv/bin/python benchmarks/drift.py [--runs 3] [--llm gguf:PATH] [--limit N]
                                         [--profile embedded|cluster]

``--llm`` answers with that generator instead of the extractive default; ``--limit`` keeps the
first N rgb items (an LLM on CPU takes seconds an answer, and each item is asked four times).
``--profile cluster`` runs it with the catalog on a PostgreSQL server of its own
(tests/postgres.py) and the index in a Qdrant collection through qdrant-client (its local mode:
no Qdrant server runs here).

With the extractive default, rates are the same every run (it is deterministic); an LLM's
may vary. Time-to-fresh is reported as the median over runs of each run's p50 and p95.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _common import DATA, RESULTS, ROOT

from verirag import Config, KnowledgeBase
from verirag.evaluation.drift import RGB_FILE, Scenario, rgb_scenario, run_drift

sys.path.insert(0, str(ROOT))
from tests import postgres

SCENARIOS = {"rgb": DATA / "rgb", "sample": ROOT / "sample" / "drift.json"}


@contextlib.contextmanager
def profile(name: str) -> Iterator[Callable[[Path], Config]]:
    """Settings for a fresh knowledge base at a path, on the embedded or the cluster profile."""
    if name == "embedded":
        yield lambda _path: Config()
        return
    with postgres.server() as base:
        yield lambda path: Config(
            catalog=postgres.new_database(base), index=f"qdrant+local:{path.parent / 'qdrant'}"
        )


def run(
    name: str, source: Path, settings: Callable[[Path], Config], args: argparse.Namespace
) -> dict[str, Any]:
    """One scenario ``args.runs`` times, each in a fresh knowledge base: its summary."""
    if name == "rgb":
        scenario = rgb_scenario(source / RGB_FILE, args.limit)
    else:
        scenario = Scenario.load(source)
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "kb"
            with KnowledgeBase(path, config=settings(path)) as kb:
                runs.append(run_drift(kb, scenario, llm=args.llm).summary)
    summary = dict(runs[0])
    for key in ("time_to_fresh_p50_ms", "time_to_fresh_p95_ms"):
        summary[key] = statistics.median(r[key] for r in runs if r[key] is not None)
    print(name, json.dumps(summary, indent=1))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--llm", default=None, help="generator spec (default: extractive)")
    parser.add_argument("--limit", type=int, default=None, help="first N rgb items only")
    parser.add_argument("--profile", choices=("embedded", "cluster"), default="embedded")
    parser.add_argument(
        "--out", type=Path, default=None, help="default results/drift[-llm][-cluster].json"
    )
    args = parser.parse_args()
    with profile(args.profile) as settings:
        results = {name: run(name, source, settings, args) for name, source in SCENARIOS.items()}
    suffix = ("-llm" if args.llm else "") + ("-cluster" if args.profile == "cluster" else "")
    out = args.out or RESULTS / f"drift{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
