"""Freshness after document changes: the rgb en_fact scenario (100 facts altered, each item
asked over its own passages) and the sample policy scenario (facts changed, a section
removed, a document deleted), each run ``--runs`` times in a fresh knowledge base.

    .venv/bin/python benchmarks/drift.py [--runs 3] [--llm gguf:PATH] [--limit N]

``--llm`` answers with that generator instead of the extractive default; ``--limit`` keeps the
first N rgb items (an LLM on CPU takes seconds an answer, and each item is asked four times).

With the extractive default, rates are the same every run (it is deterministic); an LLM's
may vary. Time-to-fresh is reported as the median over runs of each run's p50 and p95.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from _common import DATA, RESULTS, ROOT

from verirag import KnowledgeBase
from verirag.evaluation.drift import RGB_FILE, Scenario, rgb_scenario, run_drift

SCENARIOS = {"rgb": DATA / "rgb", "sample": ROOT / "sample" / "drift.json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--llm", default=None, help="generator spec (default: extractive)")
    parser.add_argument("--limit", type=int, default=None, help="first N rgb items only")
    parser.add_argument("--out", type=Path, default=None, help="default results/drift[-llm].json")
    args = parser.parse_args()
    results = {}
    for name, path in SCENARIOS.items():
        if name == "rgb":
            scenario = rgb_scenario(path / RGB_FILE, args.limit)
        else:
            scenario = Scenario.load(path)
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp, KnowledgeBase(Path(tmp) / "kb") as kb:
                runs.append(run_drift(kb, scenario, llm=args.llm).summary)
        summary = dict(runs[0])
        for key in ("time_to_fresh_p50_ms", "time_to_fresh_p95_ms"):
            summary[key] = statistics.median(r[key] for r in runs if r[key] is not None)
        results[name] = summary
        print(name, json.dumps(summary, indent=1))
    out = args.out or RESULTS / ("drift-llm.json" if args.llm else "drift.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
