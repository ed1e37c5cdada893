"""Freshness after document changes: the rgb en_fact scenario (100 facts altered, each item
asked over its own passages) and the sample policy scenario (facts changed, a section
removed, a document deleted), each run ``--runs`` times in a fresh knowledge base.

    .venv/bin/python benchmarks/drift.py [--runs 3]

Rates are the same every run (the pipeline is deterministic); time-to-fresh is reported as
the median over runs of each run's p50 and p95.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from _common import DATA, RESULTS, ROOT

from verirag import KnowledgeBase
from verirag.evaluation.drift import Scenario, run_drift

SCENARIOS = {"rgb": DATA / "rgb", "sample": ROOT / "sample" / "drift.json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "drift.json")
    args = parser.parse_args()
    results = {}
    for name, path in SCENARIOS.items():
        scenario = Scenario.load(path)
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp, KnowledgeBase(Path(tmp) / "kb") as kb:
                runs.append(run_drift(kb, scenario).summary)
        summary = dict(runs[0])
        for key in ("time_to_fresh_p50_ms", "time_to_fresh_p95_ms"):
            summary[key] = statistics.median(r[key] for r in runs if r[key] is not None)
        results[name] = summary
        print(name, json.dumps(summary, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
