"""Sentence splitters compared on real documents: the regex splitter verirag uses against
pysbd, syntok and blingfire (issue 20, item 2).

    .venv/bin/python benchmarks/realdocs.py --keep DIR      # once: builds the knowledge base
    .venv/bin/pip install pysbd syntok blingfire            # not dependencies of verirag
    .venv/bin/python benchmarks/segmenters.py DIR

For each splitter: the time to split the passages the 65 realdocs questions retrieve, and the
realdocs scores (containment, first sentence, section precision; dev = odd-numbered
questions, held out = even) with that splitter in the extractive generator and the citation
check. Each splitter runs line by line (verirag breaks sentences at line breaks) and keeps
verirag's snippet separators, so only sentence boundaries within a line differ.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from realdocs import SET, score, summarise

import verirag.generation.extractive as extractive
import verirag.generation.verify as verify
from verirag import KnowledgeBase

Spans = list[tuple[int, int]]
_SENTENCES = importlib.import_module("verirag.text.sentences")  # the module, not the function


def _lines(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def _as_verirag(split_line: Callable[[str], Spans]) -> Callable[[str], Spans]:
    """A line splitter as ``verirag.text.sentences``: per line, snippet separators kept."""

    def sentences(text: str) -> Spans:
        spans: Spans = []
        for base, line in _lines(text):
            if line.strip():
                for a, b in split_line(line):
                    cursor = base + a
                    for sep in _SENTENCES._PIECES.finditer(text, base + a, base + b):
                        spans.append((cursor, sep.start()))
                        cursor = sep.end()
                    spans.append((cursor, base + b))
        return [(a, b) for a, b in spans if len(text[a:b].strip()) > 3]

    return sentences


def _pysbd() -> Callable[[str], Spans]:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return lambda line: [(s.start, s.start + len(s.sent.rstrip())) for s in segmenter.segment(line)]


def _syntok() -> Callable[[str], Spans]:
    from syntok import segmenter

    def split(line: str) -> Spans:
        spans = []
        for paragraph in segmenter.analyze(line):
            for sentence in paragraph:
                tokens = list(sentence)
                if tokens:
                    spans.append((tokens[0].offset, tokens[-1].offset + len(tokens[-1].value)))
        return spans

    return split


def _blingfire() -> Callable[[str], Spans]:
    import blingfire

    return lambda line: [tuple(o) for o in blingfire.text_to_sentences_and_offsets(line)[1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kb", type=Path, help="the knowledge base realdocs.py --keep built")
    parser.add_argument("--splitters", default="regex,pysbd,syntok,blingfire")
    args = parser.parse_args()
    items = [json.loads(line) for line in (SET / "questions.jsonl").read_text().splitlines()]
    makers = {"pysbd": _pysbd, "syntok": _syntok, "blingfire": _blingfire}
    with KnowledgeBase(args.kb) as kb:
        passages = list(dict.fromkeys(s.text for i in items for s in kb.sources(i["question"])))
        for name in args.splitters.split(","):
            split = _SENTENCES.sentences if name == "regex" else _as_verirag(makers[name]())
            started = time.perf_counter()
            count = sum(len(split(text)) for text in passages)
            elapsed = time.perf_counter() - started
            extractive.sentences = verify.sentences = split  # type: ignore[attr-defined]
            rows = [score(i, kb.ask(i["question"]), 0.0) for i in items]
            halves = {
                half: summarise([r for r in rows if int(r["id"][1:]) % 2 == parity])
                for half, parity in (("dev", 1), ("held_out", 0))
            }
            keys = ("containment", "first_sentence", "section_precision")
            report = {h: {k: v[k] for k in keys} for h, v in halves.items()}
            print(
                json.dumps({"splitter": name, "sentences": count, "ms": round(1000 * elapsed)})
                + " "
                + json.dumps(report),
                flush=True,
            )


if __name__ == "__main__":
    sys.exit(main())
