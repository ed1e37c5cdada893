"""Training groups for the extractive generator's sentence scorer, from question-answer pairs.

Each question is asked of the knowledge base exactly as ``ask`` would (``kb.sources``: the
same retrieval, the same context assembly, edits included); a sentence of the sources that
contains a gold answer string is the positive, and sentences that contain none are the
negatives: the ones the extractive generator ranks highest first (its mistakes), the rest
drawn at random. The model then learns which sentence answers, a behaviour; the facts stay
in the documents.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from verirag.evaluation.qa import QA
from verirag.generation.extractive import ExtractiveGenerator
from verirag.kb import KnowledgeBase
from verirag.tuning.reranker import Group


def mine_sentence_groups(
    kb: KnowledgeBase,
    pairs: Iterable[QA],
    *,
    k: int = 10,
    negatives: int = 7,
    seed: int = 13,
) -> Iterator[Group]:
    """One group per answerable question: the best-ranked sentence holding an answer, and
    ``negatives`` sentences holding none (half the extractive generator's top picks)."""
    rng = random.Random(seed)
    generator = kb.generator("extractive")
    assert isinstance(generator, ExtractiveGenerator)
    hard = negatives // 2
    for qa in pairs:
        answers = [a.lower() for a in qa.answers if a.strip()]
        if not answers:
            continue
        sources = kb.sources(qa.question, k=k, metadata=qa.metadata, llm="extractive")
        ranked = [s.text for s in generator.rank(qa.question, sources)]
        hits = [any(a in text.lower() for a in answers) for text in ranked]
        if not any(hits):
            continue
        others = [text for text, hit in zip(ranked, hits, strict=True) if not hit]
        if len(others) < negatives:
            continue
        positive = ranked[hits.index(True)]
        picked = others[:hard] + rng.sample(others[hard:], negatives - hard)
        yield Group(qa.question, positive, tuple(picked))
