"""Citation checking after generation: every [n] must name a given source, and every answer
sentence must be supported by the sources it cites."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from verirag.embedding import Embedder
from verirag.generation._base import Source
from verirag.generation._text import citations, fold, names, numbers, sentences, terms
from verirag.generation._text import words as word_set

# A sentence ends at . ! ? or at its citation markers, before the next capitalised word;
# not after an initial ("U.S. Open", "J. Smith").
_ANSWER_SENTENCE = re.compile(r"(?<=[.!?\]])(?<!\b[A-Z]\.)\s+(?=[A-Z0-9\"“(])")


@dataclass(frozen=True, slots=True)
class Claim:
    """One answer sentence, the sources it cites and whether they support it."""

    text: str
    cited: tuple[int, ...]
    supported: bool
    words: float  # share of its content terms found in the cited sources
    meaning: float  # best cosine with a sentence of the cited sources
    reason: str = ""  # why it is not supported


@dataclass(frozen=True, slots=True)
class Thresholds:
    words: float = 0.7
    meaning: float = 0.8


def split_answer(answer: str) -> list[str]:
    """Answer sentences, each with the ``[n]`` markers that follow it."""
    return [part.strip() for part in _ANSWER_SENTENCE.split(answer.strip()) if part.strip()]


def check(
    answer: str,
    sources: Sequence[Source],
    embedder: Embedder,
    thresholds: Thresholds | None = None,
    *,
    question: str = "",
) -> list[Claim]:
    """A :class:`Claim` per answer sentence. Supported means: it cites only given sources,
    every number and name in it appears in them, and enough of its terms (or its meaning) are
    there. What the sentence repeats from ``question`` is the asker's premise, not a claim
    of the source ("Norway won the most medals at the 2018 Games [3]" when [3] never names
    the year the question did), so it is not looked for."""
    limits = thresholds or Thresholds()
    asked_terms = set(terms(question))
    asked_numbers = numbers(question)
    asked_words = word_set(question)
    given = {s.n: s for s in sources}
    parts = [citations(p) for p in split_answer(answer)]
    claims: list[Claim] = []
    meaning_needed: list[int] = []  # claims whose words alone do not settle it
    for text, cited in parts:
        if not text:
            continue
        unknown = [n for n in cited if n not in given]
        known = [n for n in dict.fromkeys(cited) if n in given]
        if not cited:
            claims.append(Claim(text, (), False, 0.0, 0.0, "no citation"))
            continue
        evidence = " ".join(given[n].text for n in known)
        own = [t for t in terms(text) if t not in asked_terms]
        # A sentence that adds nothing to the question ("Yes, within 30 days") is a claim
        # that the premise holds: all of it must be in the sources.
        premise = (asked_numbers, asked_words) if own else (set(), set())
        own = own or terms(text)
        found = set(terms(evidence))
        words = sum(t in found for t in own) / len(own) if own else 1.0
        missing_numbers = sorted(numbers(text) - numbers(evidence) - premise[0])
        # A name the cited source lacks is as wrong as a number it lacks.
        evidence_words = word_set(evidence) | premise[1]
        missing_names = sorted(w for w in names(text) if fold(w) not in evidence_words)
        reason = ""
        if unknown:
            reason = f"cites {', '.join(f'[{n}]' for n in unknown)}, which no source has"
        elif missing_numbers:
            reason = f"{', '.join(missing_numbers)} is not in the cited source"
        elif missing_names:
            reason = f"{', '.join(missing_names)} is not in the cited source"
        elif words < limits.words:
            meaning_needed.append(len(claims))
        claims.append(Claim(text, tuple(known), not reason, words, 0.0, reason))
    if meaning_needed:
        # Embedding is the slow part: only for claims the words leave in doubt.
        pieces = {
            n: [s.text[a:b] for a, b in sentences(s.text)] or [s.text] for n, s in given.items()
        }
        wanted = [claims[i].text for i in meaning_needed]
        pool = sorted({t for i in meaning_needed for n in claims[i].cited for t in pieces[n]})
        vectors = embedder.embed([*wanted, *pool])
        pool_vectors = dict(zip(pool, vectors[len(wanted) :], strict=True))
        for i, vector in zip(meaning_needed, vectors[: len(wanted)], strict=True):
            claim = claims[i]
            candidates = [pool_vectors[t] for n in claim.cited for t in pieces[n]]
            meaning = float(np.max(np.stack(candidates) @ vector)) if candidates else 0.0
            supported = meaning >= limits.meaning
            reason = "" if supported else "the cited source does not say this"
            claims[i] = dataclasses.replace(
                claim, meaning=meaning, supported=supported, reason=reason
            )
    return claims
