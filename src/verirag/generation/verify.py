"""Citation checking after generation: every [n] must name a given source, and every answer
sentence must be supported by the sources it cites."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from verirag.embedding import Embedder
from verirag.generation._base import Source
from verirag.generation.cues import citations, negated
from verirag.text import code_tokens, fold, names, numbers, sentences, terms
from verirag.text import words as word_set

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
    # Where in each cited source (same order as ``cited``) the sentence that says it is:
    # offsets in Source.text, so a citation names that sentence's lines, not the passage's.
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Thresholds:
    words: float = 0.7
    meaning: float = 0.8


def split_answer(answer: str) -> list[str]:
    """Answer sentences, each with the ``[n]`` markers that follow it."""
    return [part.strip() for part in _ANSWER_SENTENCE.split(answer.strip()) if part.strip()]


NEGATES = "it negates what the cited source states"
IDLE_WORDS = 0.3  # a cited source holding less of a claim's terms supports nothing in it


@dataclass(slots=True)
class _Evidence:
    """How one cited source bears on one claim."""

    n: int
    words: float
    missing: str  # a number or name of the claim the source lacks ("" if none)


def check(
    answer: str,
    sources: Sequence[Source],
    embedder: Embedder,
    thresholds: Thresholds | None = None,
    *,
    question: str = "",
    parts: Sequence[str] = (),
) -> list[Claim]:
    """A :class:`Claim` per answer sentence. Supported means: it cites only given sources,
    one cited source *on its own* holds every number and name in it and enough of its terms
    (or its meaning), no cited source is idle (supports nothing in it), and it does not
    negate what its source states. What the sentence repeats from ``question`` is the
    asker's premise, not a claim of the source ("Norway won the most medals at the 2018
    Games [3]" when [3] never names the year the question did), so it is not looked for.
    ``parts``: the answer's sentences as the generator made them (else they are split)."""
    limits = thresholds or Thresholds()
    asked_terms = set(terms(question))
    asked_numbers = numbers(question)
    asked_words = word_set(question)
    given = {s.n: s for s in sources}
    found_terms = {n: set(terms(s.text)) for n, s in given.items()}
    found_numbers = {n: numbers(s.text) for n, s in given.items()}
    found_words = {n: word_set(s.text) for n, s in given.items()}
    said = [citations(p) for p in (parts or split_answer(answer))]
    claims: list[Claim] = []
    # Claims whose words alone do not settle it: (claim index, sources that may hold it).
    meaning_needed: list[tuple[int, list[int]]] = []
    for text, cited in said:
        if not text:
            continue
        unknown = [n for n in cited if n not in given]
        known = [n for n in dict.fromkeys(cited) if n in given]
        if not cited:
            claims.append(Claim(text, (), False, 0.0, 0.0, "no citation"))
            continue
        own = [t for t in terms(text) if t not in asked_terms]
        # A sentence that adds nothing to the question ("Yes, within 30 days") is a claim
        # that the premise holds: all of it must be in the sources.
        premise = (asked_numbers, asked_words) if own else (set(), set())
        own = own or terms(text)
        evidence: list[_Evidence] = []
        for n in known:
            share = sum(t in found_terms[n] for t in own) / len(own) if own else 1.0
            lacking = sorted(numbers(text) - found_numbers[n] - premise[0])
            if not lacking:
                # A name the cited source lacks is as wrong as a number it lacks.
                words_there = found_words[n] | premise[1]
                lacking = sorted(w for w in names(text) if fold(w) not in words_there)
            evidence.append(_Evidence(n, share, ", ".join(lacking)))
        best_words = max((e.words for e in evidence), default=0.0)
        reason = ""
        holding = [e for e in evidence if not e.missing]
        if unknown:
            reason = f"cites {', '.join(f'[{n}]' for n in unknown)}, which no source has"
        elif not holding:
            reason = f"{evidence[0].missing} is not in the cited source"
        elif idle := [e.n for e in evidence if e.words < IDLE_WORDS] if len(known) > 1 else []:
            reason = f"{', '.join(f'[{n}]' for n in idle)} supports nothing in it"
        elif support := [e for e in holding if e.words >= limits.words]:
            reason = _negation(text, given[support[0].n])
        else:
            meaning_needed.append((len(claims), [e.n for e in holding]))
        claims.append(Claim(text, tuple(known), not reason, best_words, 0.0, reason))
    if meaning_needed:
        _check_meaning(claims, meaning_needed, given, embedder, limits.meaning)
    return [
        dataclasses.replace(c, spans=tuple(locate(c.text, given[n]) for n in c.cited))
        for c in claims
    ]


def locate(claim: str, source: Source) -> tuple[int, int]:
    """Where ``source`` says ``claim``: the sentence that quotes it, else the one sharing the
    most of its terms (the first of equals), as offsets in its text."""
    spans = sentences(source.text) or [(0, len(source.text))]
    quoted = " ".join(claim.split()).rstrip(".")
    wanted = set(terms(claim))
    best, overlap = spans[0], -1
    for a, b in spans:
        sentence = source.text[a:b]
        if quoted and quoted in " ".join(sentence.split()):
            return a, b
        shared = len(wanted & set(terms(sentence)))
        if shared > overlap:
            best, overlap = (a, b), shared
    return best


def _check_meaning(
    claims: list[Claim],
    needed: Sequence[tuple[int, list[int]]],
    given: dict[int, Source],
    embedder: Embedder,
    threshold: float,
) -> None:
    """Settle the claims the words leave in doubt (index, sources that may hold it) by the
    closest sentence of those sources in meaning; embedding is the slow part, so only these
    are embedded."""
    pieces = {n: [s.text[a:b] for a, b in sentences(s.text)] or [s.text] for n, s in given.items()}
    wanted = [claims[i].text for i, _ in needed]
    pool = sorted({t for _, ns in needed for n in ns for t in pieces[n]})
    vectors = embedder.embed([*wanted, *pool])
    pool_vectors = dict(zip(pool, vectors[len(wanted) :], strict=True))
    for (i, holders), vector in zip(needed, vectors[: len(wanted)], strict=True):
        claim = claims[i]
        scored = [(float(pool_vectors[t] @ vector), t) for n in holders for t in pieces[n]]
        meaning, closest = max(scored) if scored else (0.0, "")
        reason = "" if meaning >= threshold else "the cited source does not say this"
        if not reason and negated(claim.text) != negated(closest):
            reason = NEGATES
        claims[i] = dataclasses.replace(claim, meaning=meaning, supported=not reason, reason=reason)


def _negation(claim: str, source: Source) -> str:
    """Why ``claim`` contradicts ``source`` (it negates the sentence that holds most of its
    terms, or that sentence negates it), or ``""``."""
    if " ".join(claim.split()).rstrip(".") in " ".join(source.text.split()):
        return ""  # a quote says what its source says
    a, b = locate(claim, source)
    return NEGATES if negated(claim) != negated(source.text[a:b]) else ""


_CAPITALISED = re.compile(r"\b[A-Z]\w+\b")
_OPENS = re.compile(r"(^|[.?!:;\"\u201c\u201d(\[])\s*$")  # what a sentence-initial word follows


def unmentioned(question: str, sources: Sequence[Source]) -> list[str]:
    """What the question asks about that no source holds (its text, title or section): a
    name (a capitalised word not opening a sentence) or an exact token (``--teleport``,
    ``ffi_prep_cif``, :func:`verirag.text.code_tokens`). Its subject is then not in the
    documents, however close its other words come."""
    text = "\n".join(part for s in sources for part in (s.text, s.title or "", *s.section))
    there = word_set(text)
    asked = {
        m.group()
        for m in _CAPITALISED.finditer(question)
        if not _OPENS.search(question[: m.start()])
    }
    missing = {w for w in asked if fold(w) not in there}
    missing |= {t for t in code_tokens(question) if t not in text}
    return sorted(missing)
