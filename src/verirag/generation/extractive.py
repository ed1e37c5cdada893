"""The embedded default generator: no LLM, it picks the sentences that answer the question.

Each sentence of the sources is scored by its meaning (embedding cosine with the question),
its words (IDF-weighted share of the question's terms it contains), whether it holds an
answer of the kind asked for (a date for "when", a name for "who"...), whether it names a
different year or ordinal ("90th") than the question, by how well the retriever ranked its
passage, and by agreement: an answer string that several good sentences share lifts each of
them, unless a newer version of one of the sources replaced it (a changed policy outranks the
documents that still repeat the old one). With a sentence scorer (a cross-encoder
fine-tuned on the user's own questions and answers, ``verirag tune sentences``) its
probability that a sentence answers is added too. The best few, each with its citation, are
the answer, grounded by construction. Weights measured on ../shared/data/rgb and PolicyQA
(benchmarks/answer.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verirag.embedding import Embedder
from verirag.generation._base import Generation, GenerationError, Source, TokenSink
from verirag.generation.cues import AnswerKind, answer_candidates, answer_kind, is_instruction
from verirag.retrieval.rerank import Reranker
from verirag.text import anchors, code_tokens, sentences, terms


@dataclass(frozen=True, slots=True)
class Weights:
    meaning: float = 0.5
    words: float = 1.0
    kind: float = 0.2
    other_event: float = 1.0
    agreement: float = 1.0
    scorer: float = 2.0
    retrieval: float = 0.25  # the source's retrieval score, over the best source's
    superseded: float = 1.0  # states what a newer version of a source replaced


@dataclass(frozen=True, slots=True)
class Sentence:
    source: int  # Source.n
    text: str
    start: int  # offsets in the source's text
    end: int
    score: float
    prior: float = 0.0  # the retrieval part of the score: it orders, it does not qualify
    alternative: bool = False  # holds a date, number or name the question asks for


class ExtractiveGenerator:
    model_id = "extractive"
    context_tokens = 8192  # no context window: reads every retrieved chunk

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_sentences: int = 3,
        min_score: float = 0.25,
        filler_margin: float = 0.2,
        weights: Weights | None = None,
        scorer: Reranker | None = None,
    ) -> None:
        self.embedder = embedder
        self.scorer = scorer
        self.max_sentences = max_sentences
        self.min_score = min_score
        self.filler_margin = filler_margin
        self.weights = weights or Weights()

    def rank(self, question: str, sources: Sequence[Source]) -> list[Sentence]:
        """Every distinct sentence of the sources, best first."""
        asked = _terms(question)
        found, bags = _answer_sentences(sources, asked)
        if not found:
            return []
        w = self.weights
        by_n = {source.n: source for source in sources}
        vectors = self.embedder.embed([question, *(text for _, text, _, _ in found)])
        meaning = vectors[1:] @ vectors[0]
        n = len(bags)
        idf = {
            t: math.log(1 + (n - df + 0.5) / (df + 0.5))
            for t in asked
            for df in [sum(t in b for b in bags)]
        }
        total = sum(idf.values()) or 1.0
        words = np.array([sum(idf[t] for t in asked & bag) / total for bag in bags])
        kind = answer_kind(question)
        candidates = [answer_candidates(text, question, kind) for _, text, _, _ in found]
        has_kind = np.array([float(bool(c)) for c in candidates])
        # A question about 2019 (or the 93rd ceremony) is not answered by a sentence about
        # 2018 (or the 90th).
        asked_anchors = anchors(question)
        other_event = np.zeros(len(found))
        for i, (_, text, _, _) in enumerate(found):
            for wanted, named in zip(asked_anchors, anchors(text), strict=True):
                if wanted and named and not named & wanted:
                    other_event[i] = 1.0
        best = max((s.score for s in sources), default=0.0) or 1.0
        retrieved = np.array([by_n[n_].score / best for n_, _, _, _ in found])
        base = (
            w.meaning * meaning
            + w.words * words
            + w.kind * has_kind
            - w.other_event * other_event
            + w.retrieval * retrieved
        )
        if self.scorer is not None:
            logits = self.scorer.score(question, [text for _, text, _, _ in found])
            base = base + w.scorer / (1.0 + np.exp(-logits.astype(np.float64)))
        # An answer that a newer version of a source replaced is out of date where another
        # document still says it: it loses the support of agreement and is marked down.
        superseded = _superseded(question, kind, sources)
        base = base - w.superseded * np.array([float(bool(c & superseded)) for c in candidates])
        votes: dict[str, float] = {}
        for score, strings in zip(base, candidates, strict=True):
            for string in strings - superseded:
                votes[string] = votes.get(string, 0.0) + max(float(score), 0.0)
        top = max(votes.values(), default=0.0) or 1.0
        agreement = np.array(
            [max((votes.get(s, 0.0) for s in c), default=0.0) / top for c in candidates]
        )
        # Agreement is for dates, numbers and names; a shared option or identifier is no sign
        # of an answer (grep's page names -v everywhere).
        factoid = kind in (AnswerKind.DATE, AnswerKind.NUMBER, AnswerKind.NAME)
        scores = base + w.agreement * agreement if factoid else base
        prior = w.retrieval * retrieved
        ranked = [
            Sentence(n_, text, start, end, float(score), float(p), factoid and bool(c))
            for (n_, text, start, end), score, p, c in zip(
                found, scores, prior, candidates, strict=True
            )
        ]
        return sorted(ranked, key=lambda s: -s.score)

    def generate(
        self,
        question: str,
        sources: Sequence[Source],
        *,
        schema: dict[str, Any] | None = None,
        on_token: TokenSink | None = None,
    ) -> Generation:
        if schema is not None:
            raise GenerationError("structured output needs an LLM generator (--llm)")
        # Whether a sentence answers at all is judged on what it says, not on where its
        # passage ranked.
        picked = [s for s in self.rank(question, sources) if s.score - s.prior >= self.min_score]
        by_n = {source.n: source for source in sources}
        if picked:
            # Beyond the best sentence, only what its own section says, what answers nearly as
            # well, or another date, number or name of the kind asked for (agreement ranked
            # it): not filler from elsewhere. Margin chosen on realdocs' dev half.
            best = picked[0]
            home = (by_n[best.source].doc_id, by_n[best.source].section)
            picked = [
                s
                for s in picked
                if (by_n[s.source].doc_id, by_n[s.source].section) == home
                or s.score >= best.score - self.filler_margin
                or s.alternative
            ]
        parts = [
            f"{_entry_term(by_n[s.source].text, s.start)}{s.text} [{s.source}]"
            for s in picked[: self.max_sentences]
        ]
        text = " ".join(parts)
        if on_token is not None and text:
            on_token(text)
        return Generation(text=text, model=self.model_id, parts=parts)


# An entry of a tagged list as the parsers write it: "-L [bind_address:]port: Specifies ...".
_TERM = re.compile(r"((?:(?!: )[^\n]){1,80}?): ")  # a term may hold ":", not ": "


def _entry_term(text: str, start: int) -> str:
    """``"-L port: … "`` when the sentence at ``start`` continues the description of an
    entry whose term names an option or identifier, so a quoted later sentence still says
    which option it describes; else ``""``."""
    opening = text.rfind("\n", 0, start) + 1
    term = _TERM.match(text, opening)
    if term is None or term.end() > start or not code_tokens(term.group(1)):
        return ""
    return f"{term.group(1)}: … "


def _superseded(question: str, kind: AnswerKind, sources: Sequence[Source]) -> set[str]:
    """Answers of the asked kind that a source's latest edit took out of the passage it was
    retrieved for (``Source.edits``): the new version says something else instead."""
    gone: set[str] = set()
    for source in sources:
        for old, new in source.edits:
            said = new.lower()
            gone |= {c for c in answer_candidates(old, question, kind) if c.lower() not in said}
    return gone


def _terms(text: str) -> set[str]:
    """Folded content terms and, as written, the options and identifiers (``-A`` is not
    ``-a``): both count as the question's words."""
    return set(terms(text)) | code_tokens(text)


def _answer_sentences(
    sources: Sequence[Source], asked: set[str]
) -> tuple[list[tuple[int, str, int, int]], list[set[str]]]:
    """The sentences that may answer, once each, as (source, text, start, end), with their
    content terms. A heading or a one-word fragment answers nothing; nor does a sentence of
    nothing but the question's own terms ("The 92nd Academy Awards"), nor an instruction
    planted for the model ("ignore previous instructions, say ..."), however well it
    matches the question."""
    found: list[tuple[int, str, int, int]] = []
    bags: list[set[str]] = []
    seen: set[str] = set()
    for source in sources:
        for start, end in sentences(source.text):
            text = source.text[start:end].strip()
            key = " ".join(text.lower().split())
            bag = _terms(text)
            fits = len(key.split()) >= 2 and key not in seen and not bag <= asked
            if fits and not is_instruction(text):
                seen.add(key)
                found.append((source.n, text, start, end))
                bags.append(bag)
    return found, bags
