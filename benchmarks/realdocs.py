"""Answers on real documents: man pages, HTML manuals, PDFs and a Python package's source that
a Debian machine has, asked 65 questions written and checked by hand (10 unanswerable).

    .venv/bin/python benchmarks/realdocs.py [--man shipped|rendered] [--llm gguf:PATH]
                                            [--keep DIR] [--limit N | --sample N]

The corpus (``benchmarks/realdocs/corpus.json``) is copied from this machine into a folder and
ingested; a missing file is reported and the questions about it are left out. ``--man
shipped`` ingests the man pages as the packages ship them (``tar.1.gz``); ``rendered``, as
``man -P cat`` prints them (``tar.1.txt``, 80 columns), which is what users did before.

Per question (``benchmarks/realdocs/questions.jsonl``: gold document, section, answer strings):
- contained: an answer string occurs in the answer, *case-sensitively* (``-A`` is not ``-a``),
  citation markers aside; containment is over the answerable questions, abstentions counting 0;
  first sentence: the same, in the answer's first sentence alone;
- section precision: of the sources an answer cites, the share in the gold document and, where
  the question names one, under the gold section (a heading of the source's section path, case
  and a leading number such as "2.1" aside), averaged over the answers that cite;
- abstention: recall on the unanswerable, false abstention on the answerable, precision;
- retrieval: the gold document among the sources handed to the generator, and first;
- latency: the whole ``ask``, p50/p95.
Targets (issue 20): containment >= 0.70, section precision >= 0.80, abstention recall >= 0.90,
false abstention <= 0.05.
"""

from __future__ import annotations

import argparse
import glob
import importlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, ROOT, median, percentile

from verirag import Answer, KnowledgeBase

SET = ROOT / "benchmarks" / "realdocs"
MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def _man_source(name: str) -> Path | None:
    folder = Path("/usr/share/man") / f"man{name.rsplit('.', 1)[1][0]}"
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def build_corpus(target: Path, man: str) -> list[str]:
    """Copy the corpus into ``target``; returns what is missing on this machine."""
    spec = json.loads((SET / "corpus.json").read_text())
    missing = []
    (target / "man").mkdir(parents=True)
    for name in spec["man"]:
        source = _man_source(name)
        if source is None:
            missing.append(f"man page {name}")
        elif man == "shipped":
            shutil.copy(source, target / "man" / source.name)
        else:
            rendered = subprocess.run(
                ["man", "-P", "cat", str(source)],
                capture_output=True,
                text=True,
                env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "0"},
            )
            (target / "man" / f"{name}.txt").write_text(rendered.stdout, encoding="utf-8")
    for folder, patterns in spec["files"].items():
        (target / folder).mkdir(parents=True, exist_ok=True)
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            found = glob.glob(pattern)
            if not found:
                missing.append(pattern)
            for path in found:
                shutil.copy(path, target / folder / Path(path).name)
    for folder, package in spec["python_packages"].items():
        root = Path(importlib.import_module(package).__file__ or "").parent
        shutil.copytree(root, target / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return missing


def same_doc(cited: str, gold: str) -> bool:
    """``man/tar.1.gz`` shipped and ``man/tar.1.txt`` rendered are the same page."""

    def stem(doc_id: str) -> str:
        return re.sub(r"\.(gz|txt)$", "", doc_id)

    return stem(cited) == stem(gold)


_NUMBERING = re.compile(r"^\s*(\d+(\.\d+)*\.?\s+)")


def in_section(section: tuple[str, ...], gold: str | None) -> bool:
    """Whether a heading of ``section`` is ``gold`` (case and a leading "2.1 " aside)."""

    def bare(heading: str) -> str:
        return _NUMBERING.sub("", heading).strip().lower()

    return gold is None or any(bare(gold) == bare(heading) for heading in section)


def score(item: dict[str, Any], answer: Answer, seconds: float) -> dict[str, Any]:
    text = MARKER.sub("", answer.text)
    row: dict[str, Any] = {
        "id": item["id"],
        "question": item["question"],
        "answer": answer.text,
        "abstained": answer.abstained,
        "seconds": seconds,
        "cited": [[s.doc_id, " > ".join(s.section)] for s in answer.cited],
    }
    if not item["answers"]:
        return row
    docs = [s.doc_id for s in answer.sources]
    row["contained"] = not answer.abstained and any(a in text for a in item["answers"])
    first = answer.claims[0].text if answer.claims and not answer.abstained else ""
    row["first_sentence"] = any(a in first for a in item["answers"])
    row["retrieved"] = any(same_doc(d, item["doc"]) for d in docs)
    row["first"] = bool(docs) and same_doc(docs[0], item["doc"])
    if not answer.abstained and answer.cited:
        good = [
            same_doc(s.doc_id, item["doc"]) and in_section(s.section, item["section"])
            for s in answer.cited
        ]
        row["section_precision"] = sum(good) / len(good)
    return row


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if "contained" in r]
    silent = [r for r in rows if "contained" not in r]
    precisions = [r["section_precision"] for r in answerable if "section_precision" in r]
    abstained = [r for r in rows if r["abstained"]]
    latencies = [1000 * r["seconds"] for r in rows]

    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(silent),
        "containment": share(sum(r["contained"] for r in answerable), len(answerable)),
        "first_sentence": share(sum(r["first_sentence"] for r in answerable), len(answerable)),
        "section_precision": round(sum(precisions) / len(precisions), 4) if precisions else 0.0,
        "abstention_recall": share(sum(r["abstained"] for r in silent), len(silent)),
        "false_abstention": share(sum(r["abstained"] for r in answerable), len(answerable)),
        "abstention_precision": share(sum("contained" not in r for r in abstained), len(abstained)),
        "gold_retrieved": share(sum(r["retrieved"] for r in answerable), len(answerable)),
        "gold_first": share(sum(r["first"] for r in answerable), len(answerable)),
        "p50_ms": round(median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--man", choices=["shipped", "rendered"], default="shipped")
    parser.add_argument("--llm", help="a generator spec (default: the knowledge base's)")
    parser.add_argument("--keep", type=Path, help="build the knowledge base here and keep it")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--sample", type=int, help="N questions spread over the set")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    items = [json.loads(line) for line in (SET / "questions.jsonl").read_text().splitlines()]
    items = items[: args.limit] if args.limit else items
    if args.sample and args.sample < len(items):
        step = (len(items) - 1) / (args.sample - 1)
        items = [items[round(i * step)] for i in range(args.sample)]

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        missing = build_corpus(corpus, args.man)
        for what in missing:
            print(f"missing on this machine: {what}")
        kb_path = args.keep or Path(tmp) / "kb"
        with KnowledgeBase(kb_path) as kb:
            started = time.perf_counter()
            report = kb.ingest(corpus)
            ingest_s = time.perf_counter() - started
            present = {d.doc_id for d in kb.documents()}
            counts = {status.value: n for status, n in report.counts().items() if n}
            print(f"ingested in {ingest_s:.0f} s: {counts}")
            for outcome in report.failed + report.skipped:
                print(f"  {outcome.status.value}: {outcome.doc_id}: {outcome.reason}")
            asked = [
                i for i in items if i["doc"] is None or any(same_doc(d, i["doc"]) for d in present)
            ]
            rows = []
            for item in asked:
                started = time.perf_counter()
                answer = kb.ask(item["question"], llm=args.llm)
                rows.append(score(item, answer, time.perf_counter() - started))
    left_out = [i["id"] for i in items if i not in asked]
    # Settings are chosen on the odd-numbered questions (dev); the even half is held out.
    halves = {
        half: summarise([r for r in rows if int(r["id"][1:]) % 2 == parity])
        for half, parity in (("dev_odd", 1), ("held_out_even", 0))
    }
    summary = summarise(rows) | {
        "halves": {h: {k: v[k] for k in list(v)[3:10]} for h, v in halves.items()},
        "man": args.man,
        "llm": args.llm or "extractive",
        "ingest_s": round(ingest_s, 1),
        "left_out": left_out,
        "missing": missing,
    }
    print(json.dumps(summary, indent=2))
    out = (
        args.out or RESULTS / f"realdocs-{args.man}-{(args.llm or 'extractive').split(':')[0]}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
