"""Naive vs full pipeline on PolicyQA dev (``verirag eval qa --ablation`` on a benchmark set).

    .venv/bin/python benchmarks/ablation.py [--sample N] [--html FILE]

Each policy segment is a document with its website as metadata, and each question is asked
within its website's policy (a metadata filter), as in ``benchmarks/answer.py``. Naive: fixed
512-token windows, dense search, top 3, no re-rank, no citation check. Full: structure-aware
chunks, hybrid search (and the re-ranker when one is configured), k=10, checked citations.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import RESULTS, ROOT
from answer import K, policyqa

from verirag import Config, KnowledgeBase
from verirag.evaluation.ablation import ablation
from verirag.evaluation.qa import QA

COLUMNS = (
    "exact_match",
    "f1",
    "containment",
    "retrieval_recall",
    "citation_precision",
    "citation_recall",
    "abstention_rate",
    "latency_p50_ms",
    "latency_p95_ms",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, help="every n-th question, n chosen to give N")
    parser.add_argument("--kb-root", type=Path, default=ROOT / ".verirag-eval")
    parser.add_argument("--out", type=Path, default=RESULTS / "ablation.json")
    parser.add_argument("--html", type=Path)
    parser.add_argument("--k", type=int, default=K, help="chunks the full pipeline reads")
    parser.add_argument(
        "--sentence-scorer", help="the full pipeline with this tuned scorer (`tune sentences`)"
    )
    args = parser.parse_args()

    records, questions = policyqa("dev")
    if args.sample:
        step = max(1, len(questions) // args.sample)
        questions = questions[::step][: args.sample]
    items = [QA(q.text, tuple(q.answers), q.metadata, tuple(sorted(q.gold))) for q in questions]
    config = Config(sentence_scorer=args.sentence_scorer)  # None: the default pipeline
    with KnowledgeBase(args.kb_root / "answer-policyqa", config=config) as kb:
        kb.ingest_texts(records)
        runs = ablation(kb, items, k=args.k)
    print(f"policyqa dev, {len(items)} questions")
    print(f"{'pipeline':10}" + "".join(f"{c:>20}" for c in COLUMNS))
    for name, run in runs.items():
        print(f"{name:10}" + "".join(f"{run.summary[c] or 0:>20.3f}" for c in COLUMNS))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.sentence_scorer or args.k != K:
        suffix = ("-scorer" if args.sentence_scorer else "") + (
            f"-k{args.k}" if args.k != K else ""
        )
        args.out = args.out.with_name(args.out.stem + suffix + ".json")
    args.out.write_text(
        json.dumps(
            {n: {"settings": r.settings, "summary": r.summary} for n, r in runs.items()}, indent=2
        )
        + "\n"
    )
    if args.html:
        from verirag.evaluation.report import html_report

        args.html.write_text(html_report("policyqa dev", runs), encoding="utf-8")


if __name__ == "__main__":
    main()
