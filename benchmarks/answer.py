"""Answer quality: containment, citation precision, abstention and latency per generator.

    .venv/bin/python benchmarks/answer.py [--datasets rgb,policyqa] [--limit N | --sample N]
                                          [--llm openai:MODEL@URL|gguf:PATH] [--gguf PATH]
                                          [--sentence-scorer DIR] [--kb-root DIR]

Rows: the extractive generator on every question; then, when the Qwen2.5-Coder-1.5B GGUF is
there (``--gguf``, ``$VERIRAG_GGUF`` or the path ``benchmarks/qwen_gguf.py`` writes), the same
for that model on rgb and on 200 PolicyQA questions spread over the set. ``--llm`` runs only
the generator it names.

- rgb (en_fact): the corpus is every true and negative passage of the 100 items; the
  questions are the items' questions. Gold documents: the item's true passages.
- policyqa (dev): each policy segment is a document with its website as metadata; each
  question is asked within its website's policy (a metadata filter). Gold: the segment.
  ``--export-train DIR`` writes the test split (other websites) for training a sentence
  scorer: ``verirag --kb DIR tune sentences DIR/qa.jsonl --layers 6``, then
  ``--sentence-scorer DIR/sentence-scorers/minilm-l6``.

rgb is also asked with only the negative passages searchable, where the documents are silent:
``silent_abstention_rate`` is how often the answer then abstains.

Containment and citation precision are ``verirag eval qa``'s (``verirag.evaluation.qa.score``):
a gold answer string inside the answer (normalised: case, punctuation and articles aside,
citation markers stripped); the share of the cited documents that are gold, over the answers
that cite one. Latency: the whole ``ask`` (retrieval, generation, citation check), p50 over the
questions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import DATA, RESULTS, ROOT, median, percentile

from verirag import Config, KnowledgeBase, TextRecord
from verirag.evaluation.qa import QA, score


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    answers: list[str]
    gold: set[str]
    metadata: dict[str, Any] | None = None


def _flatten(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif value:
        yield str(value)


def rgb() -> tuple[list[TextRecord], list[Question]]:
    records, questions = [], []
    with (DATA / "rgb" / "en_fact_normalized.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            gold = set()
            for kind in ("true_passages", "negative_passages"):
                for i, passage in enumerate(item[kind]):
                    doc_id = f"{item['_id']}/{kind.split('_')[0]}-{i}"
                    records.append(TextRecord(doc_id, passage))
                    if kind == "true_passages":
                        gold.add(doc_id)
            questions.append(Question(item["question"], list(_flatten(item["answer"])), gold))
    return records, questions


def policyqa(split: str = "dev") -> tuple[list[TextRecord], list[Question]]:
    folder = DATA / "policyqa"
    records, website = [], {}
    with (folder / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["metadata"]["split"] != split:
                continue
            website[row["_id"]] = row["title"]
            records.append(TextRecord(row["_id"], row["text"], metadata={"website": row["title"]}))
    texts = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            texts[row["_id"]] = row["text"]
    questions = []
    with (folder / "answers.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            gold = set(row["gold_doc_ids"])
            if not gold <= website.keys():
                continue
            site = website[next(iter(gold))]
            questions.append(
                Question(texts[row["query_id"]], row["answers"], gold, {"website": site})
            )
    return records, questions


K = 10


def run(
    kb: KnowledgeBase,
    questions: list[Question],
    llm: str | None,
    doc_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Each question asked once, scored by ``verirag.evaluation.qa.score`` (the metrics
    ``verirag eval qa`` reports)."""
    scored = []
    for question in questions:
        started = time.perf_counter()
        answer = kb.ask(question.text, k=K, metadata=question.metadata, doc_ids=doc_ids, llm=llm)
        item = QA(question.text, tuple(question.answers), question.metadata, tuple(question.gold))
        scored.append(score(item, answer, time.perf_counter() - started))
    n = len(questions)
    answered = [s for s in scored if not s.abstained]
    precisions = [s.citation_precision for s in answered if s.citation_precision is not None]
    latencies = [1000 * s.seconds for s in scored]
    return {
        "questions": n,
        "containment": round(sum(s.contained or 0.0 for s in answered) / n, 4),
        "citation_precision": round(sum(precisions) / len(precisions), 4) if precisions else 0.0,
        "abstention_rate": round((n - len(answered)) / n, 4),
        "p50_ms": round(median(latencies), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
    }


QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_DEFAULT = Path.home() / ".cache" / "verirag" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
LLM_SAMPLE = {"rgb": 100, "policyqa": 200}  # questions asked of the GGUF model (CPU time)


def _default_gguf() -> Path | None:
    path = Path(os.environ.get("VERIRAG_GGUF", QWEN_DEFAULT))
    return path if path.is_file() else None


def spread(questions: list[Question], n: int) -> list[Question]:
    """``n`` questions evenly spread over the set (all of them when it has fewer)."""
    if n >= len(questions):
        return questions
    step = len(questions) / n
    return [questions[int(i * step)] for i in range(n)]


def export_train(target: Path) -> None:
    records, questions = policyqa("test")
    with KnowledgeBase(target) as kb:
        kb.ingest_texts(records)
    with (target / "qa.jsonl").open("w", encoding="utf-8") as out:
        for q in questions:
            row = {"question": q.text, "answers": q.answers, "metadata": q.metadata}
            out.write(json.dumps(row) + "\n")
    print(f"{len(records)} segments in {target}, {len(questions)} questions in {target}/qa.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="rgb,policyqa")
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument(
        "--sample", type=int, default=None, help="N questions evenly spread over the set"
    )
    parser.add_argument("--llm", default=None, help="generator spec (default: extractive)")
    parser.add_argument(
        "--sentence-scorer", default=None, help="directory made by `verirag tune sentences`"
    )
    parser.add_argument("--kb-root", type=Path, default=ROOT / ".verirag-eval")
    parser.add_argument("--out", type=Path, default=RESULTS / "answer.json")
    parser.add_argument(
        "--gguf",
        type=Path,
        default=None,
        help="the Qwen2.5 GGUF for the LLM rows (default $VERIRAG_GGUF, then "
        "~/.cache/verirag/...; made by benchmarks/qwen_gguf.py)",
    )
    parser.add_argument(
        "--export-train",
        type=Path,
        default=None,
        help="write PolicyQA's test split (never asked here) as a knowledge base in DIR and its "
        "questions as DIR/qa.jsonl, for `verirag --kb DIR tune sentences DIR/qa.jsonl`",
    )
    args = parser.parse_args()
    if args.export_train:
        export_train(args.export_train)
        return
    loaders = {"rgb": rgb, "policyqa": policyqa}
    gguf = None if args.llm else args.gguf or _default_gguf()
    if gguf is None and not args.llm:
        print(
            "Qwen2.5 GGUF rows skipped: no model at --gguf, $VERIRAG_GGUF or "
            f"{QWEN_DEFAULT} (benchmarks/qwen_gguf.py assembles it)",
            flush=True,
        )
    report = {}
    for name in args.datasets.split(","):
        records, questions = loaders[name]()
        questions = questions[: args.limit] if args.limit else questions
        if args.sample:
            questions = spread(questions, args.sample)
        config = Config(sentence_scorer=args.sentence_scorer)
        kb = KnowledgeBase(args.kb_root / f"answer-{name}", config=config)
        kb.ingest_texts(records)
        runs = [(name, args.llm, questions)]
        if gguf is not None:
            spec = f"gguf:{gguf}#sha256={QWEN_SHA256}"
            runs.append((f"{name}/qwen2.5-1.5b", spec, spread(questions, LLM_SAMPLE[name])))
        for label, llm, asked in runs:
            row = run(kb, asked, llm)
            row["generator"] = llm or kb.config.generator
            if args.sentence_scorer and llm in (None, "extractive"):
                row["sentence_scorer"] = args.sentence_scorer
            if name == "rgb":
                # The same questions where the documents are silent: only the negative passages.
                negatives = [r.doc_id for r in records if "/negative-" in r.doc_id]
                silent = [dataclasses.replace(q, metadata=None, gold=set()) for q in asked]
                row["silent_abstention_rate"] = run(kb, silent, llm, doc_ids=negatives)[
                    "abstention_rate"
                ]
            report[label] = row
            print(f"{label}: {json.dumps(row)}", flush=True)
        kb.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
