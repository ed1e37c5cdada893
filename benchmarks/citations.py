"""Citation checking on rgb's counterfactual passages: are altered facts flagged, and are
faithful sentences passed?

    .venv/bin/python benchmarks/citations.py

Each rgb item has true passages and the same passages with the fact altered. For every
sentence that the alteration changed:
- altered: the counterfactual sentence cited to its true passage -> should be flagged;
- faithful: the true sentence cited to another true passage of the item that also states the
  answer (a paraphrase) -> should pass;
- off-topic: a sentence of a negative passage cited to the true passage -> should be flagged.
Reported per threshold pair, so the defaults are read off data.
"""

from __future__ import annotations

import itertools
import json

from _common import DATA

from verirag.embedding import load_embedder
from verirag.generation import Source, Thresholds, check
from verirag.text import sentences


def source(text: str) -> Source:
    return Source(1, "p", 1, None, (), text, 0, len(text), None, None, ("c",), 1.0, 0.0)


def sentence_list(text: str) -> list[str]:
    return [text[a:b].strip() for a, b in sentences(text)]


def main() -> None:
    altered, faithful, off_topic = [], [], []
    with (DATA / "rgb" / "en_fact_normalized.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            answers = [item["answer"]] if isinstance(item["answer"], str) else []
            truths = item["true_passages"]
            for i, (true, fake) in enumerate(
                zip(truths, item["counterfactual_passages"], strict=False)
            ):
                for t, f in zip(sentence_list(true), sentence_list(fake), strict=False):
                    if t == f:
                        continue
                    altered.append((f"{f} [1]", true))
                    others = [p for j, p in enumerate(truths) if j != i]
                    for other in others:
                        if any(
                            a.lower() in t.lower() and a.lower() in other.lower() for a in answers
                        ):
                            faithful.append((f"{t} [1]", other))
                            break
                for negative in item["negative_passages"][:1]:
                    first = sentence_list(negative)[:1]
                    if first:
                        off_topic.append((f"{first[0]} [1]", true))
    embedder = load_embedder("minilm")
    print(
        f"altered {len(altered)}, faithful paraphrases {len(faithful)}, off-topic {len(off_topic)}"
    )
    print(
        f"{'words':>6} {'meaning':>8} {'altered flagged':>16} "
        f"{'off-topic flagged':>18} {'faithful passed':>16}"
    )
    for words, meaning in itertools.product((0.5, 0.6, 0.7, 0.8), (0.7, 0.8, 0.9)):
        limits = Thresholds(words=words, meaning=meaning)

        def flagged(pairs: list[tuple[str, str]], limits: Thresholds = limits) -> float:
            bad = sum(
                not all(c.supported for c in check(text, [source(passage)], embedder, limits))
                for text, passage in pairs
            )
            return bad / len(pairs)

        print(
            f"{words:>6} {meaning:>8} {flagged(altered):>16.3f} {flagged(off_topic):>18.3f} "
            f"{1 - flagged(faithful):>16.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
