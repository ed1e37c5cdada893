"""Grounded answers: the retrieved chunks become numbered sources within a token budget; a
generator writes an answer citing them as ``[n]``; every sentence is checked against the
sources it cites; and the answer abstains ("The documents don't say") when retrieval finds
nothing relevant enough or no sentence is supported.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from verirag.embedding import Embedder
from verirag.generation._base import Generation, Generator, Source, TokenSink
from verirag.generation.context import Edits, assemble
from verirag.generation.cues import citations
from verirag.generation.verify import Claim, Thresholds, check, split_answer, unmentioned
from verirag.retrieval import SearchResult

ABSTAIN = "The documents don't say"


@dataclass(slots=True)
class Answer:
    """An answer with its numbered sources, its checked claims and what it cost."""

    answer_id: str
    question: str
    text: str
    abstained: bool
    sources: list[Source]
    claims: list[Claim] = field(default_factory=list)
    reason: str = ""  # why it abstained
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    data: Any = None  # the JSON value, for structured output
    fields: dict[str, list[int]] = field(default_factory=dict)  # JSON path -> sources it cites
    prompt: list[dict[str, str]] = field(default_factory=list)  # chat messages sent, if any
    # A follow-up made standalone (:mod:`verirag.generation.followup`): what was searched
    # and answered, and how it was made; empty when the question was answered as asked.
    standalone: str = ""
    rewrite: str = ""

    @property
    def cited(self) -> list[Source]:
        """The sources the answer's claims cite, in citation order, each narrowed to the
        chunks that hold the cited sentences (their pages and lines, :meth:`Source.at`)."""
        spans: dict[int, list[tuple[int, int]]] = {}
        for claim in self.claims:
            for i, n in enumerate(claim.cited):
                spans.setdefault(n, []).extend(claim.spans[i : i + 1])
        by_n = {s.n: s for s in self.sources}
        return [by_n[n].at(found) for n, found in spans.items() if n in by_n]

    @property
    def unsupported(self) -> list[Claim]:
        return [c for c in self.claims if not c.supported]

    def _where(self, claim: Claim) -> list[dict[str, Any]]:
        """Each source ``claim`` cites, at the sentence that says it."""
        by_n = {s.n: s for s in self.sources}
        places = []
        for i, n in enumerate(claim.cited):
            if n in by_n:
                at = by_n[n].at(claim.spans[i : i + 1])  # no span (a server's claim): all of it
                places.append(
                    {
                        "n": n,
                        "pages": [at.page_start, at.page_end],
                        "lines": [at.line_start, at.line_end],
                        "label": at.label(),
                    }
                )
        return places

    def to_json(self) -> dict[str, Any]:
        """The answer, its checked claims and the sources it cites, as JSON values."""
        return {
            "answer_id": self.answer_id,
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "reason": self.reason,
            "claims": [
                {
                    "text": c.text,
                    "cited": list(c.cited),
                    "supported": c.supported,
                    "reason": c.reason,
                    "where": self._where(c),
                }
                for c in self.claims
            ],
            "sources": [s.to_json() for s in self.cited],
            "data": self.data,
            "fields": self.fields,
            "model": self.model,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": self.cost,
            "timings": self.timings,
            "standalone_question": self.standalone or self.question,
            "rewrite": self.rewrite or "as asked",
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        """An answer as :meth:`to_json` gave it (a server's): the cited sources without their
        text, the claims without their support scores."""
        sources = [
            Source(
                n=s["n"],
                doc_id=s["doc_id"],
                version=s["version"],
                title=s["title"],
                section=tuple(s["section"]),
                text="",
                char_start=s["char_start"],
                char_end=s["char_end"],
                page_start=s["pages"][0],
                page_end=s["pages"][1],
                chunk_ids=tuple(s["chunk_ids"]),
                score=0.0,
                ingested_at=s["ingested_at"],
                edits=tuple((e["was"], e["now"]) for e in s["edits"]),
                line_start=s["lines"][0],
                line_end=s["lines"][1],
            )
            for s in data["sources"]
        ]
        claims = [
            Claim(c["text"], tuple(c["cited"]), c["supported"], 0.0, 0.0, c["reason"])
            for c in data["claims"]
        ]
        return cls(
            answer_id=data["answer_id"],
            question=data["question"],
            text=data["answer"],
            abstained=data["abstained"],
            sources=sources,
            claims=claims,
            reason=data["reason"],
            model=data["model"],
            tokens_in=data["tokens_in"],
            tokens_out=data["tokens_out"],
            cost=data["cost"],
            timings=data["timings"],
            data=data["data"],
            fields=data["fields"],
            standalone=data.get("standalone_question", ""),
            rewrite=data.get("rewrite", ""),
        )


def abstention(sources: Sequence[Source], reason: str) -> str:
    """The abstention text: it says what was searched, so a user knows where not to look."""
    titles = list(dict.fromkeys(f"{s.title or s.doc_id} (v{s.version})" for s in sources))
    searched = (
        f" Searched {len(sources)} passage(s) from: {'; '.join(titles[:5])}"
        + (f" and {len(titles) - 5} more." if len(titles) > 5 else ".")
        if sources
        else " No passage you may read matched the question."
    )
    return f"{ABSTAIN} ({reason}).{searched}"


def sources_for(
    results: Sequence[SearchResult],
    generator: Generator,
    *,
    count_tokens: Callable[[str], int],
    budget_tokens: int | None = None,
    edits: Edits | None = None,
) -> list[Source]:
    """The numbered sources a generator is shown for ``results``: what ``answer`` hands it,
    and what tuning trains the sentence scorer on, so both see the same passages."""
    budget = budget_tokens or generator.context_tokens
    return assemble(results, budget_tokens=budget, count_tokens=count_tokens, edits=edits)


def answer(
    question: str,
    results: Sequence[SearchResult],
    generator: Generator,
    embedder: Embedder,
    *,
    answer_id: str,
    count_tokens: Callable[[str], int],
    budget_tokens: int | None = None,
    min_relevance: float = 0.25,
    thresholds: Thresholds | None = None,
    schema: dict[str, Any] | None = None,
    on_token: TokenSink | None = None,
    verify: bool = True,
    edits: Edits | None = None,
) -> Answer:
    """Sources from ``results``, a generation, checked claims; or an abstention.
    ``verify=False`` (the naive baseline of an ablation) takes the generation as it is: no
    relevance floor, no citation check, no abstention."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    sources = sources_for(
        results, generator, count_tokens=count_tokens, budget_tokens=budget_tokens, edits=edits
    )
    timings["context"] = time.perf_counter() - started
    best = max((r.scores.get("dense", 0.0) for r in results), default=0.0)
    reason = ""
    if not sources or (verify and best < min_relevance):
        reason = f"no passage is relevant enough: best similarity {best:.2f} < {min_relevance}"
    elif verify and (missing := unmentioned(question, sources)):
        reason = f"no passage mentions {', '.join(missing)}"
    if reason:
        return Answer(
            answer_id,
            question,
            abstention(sources, reason),
            True,
            sources,
            reason=reason,
            model=generator.model_id,
            timings=timings,
        )
    started = time.perf_counter()
    generation = generator.generate(question, sources, schema=schema, on_token=on_token)
    timings["generate"] = time.perf_counter() - started
    started = time.perf_counter()
    data: Any = None
    fields: dict[str, list[int]] = {}
    if schema is not None:
        data = json.loads(generation.text)
        claims, fields = _checked_fields(data, sources, embedder, thresholds, question)
    elif not verify:
        claims = _unchecked(generation, sources)
    elif generation.text:
        parts = generation.parts
        claims = check(
            generation.text, sources, embedder, thresholds, question=question, parts=parts
        )
    else:
        claims = []
    timings["verify"] = time.perf_counter() - started
    result = Answer(
        answer_id,
        question,
        generation.text,
        False,
        sources,
        claims,
        model=generation.model,
        tokens_in=generation.tokens_in,
        tokens_out=generation.tokens_out,
        timings=timings,
        data=data,
        fields=fields,
        prompt=generation.prompt,
    )
    if schema is None and not any(c.supported for c in claims):
        result.abstained = True
        result.reason = _UNSUPPORTED if claims else "no passage answers the question"
        result.text = abstention(sources, result.reason)
    return result


_UNSUPPORTED = "no sentence of the answer is supported by its sources"


def _unchecked(generation: Generation, sources: Sequence[Source]) -> list[Claim]:
    """The generation's sentences taken as they are (the naive baseline), citations of
    sources that were not given dropped."""
    given = {source.n for source in sources}
    return [
        Claim(text, tuple(n for n in cited if n in given), True, 0.0, 0.0, "not checked")
        for text, cited in map(citations, generation.parts or split_answer(generation.text))
        if text
    ]


def _checked_fields(
    data: Any,
    sources: Sequence[Source],
    embedder: Embedder,
    thresholds: Thresholds | None,
    question: str,
) -> tuple[list[Claim], dict[str, list[int]]]:
    """Each string field of a structured answer checked as a claim of its own, and the
    sources each field cites (by JSON path)."""
    claims: list[Claim] = []
    fields: dict[str, list[int]] = {}
    for path, leaf in _strings(data):
        checked = check(leaf, sources, embedder, thresholds, question=question)
        fields[path] = sorted({n for c in checked for n in c.cited})
        claims.extend(checked)
    return claims, fields


def _strings(value: Any, path: str = "$") -> list[tuple[str, str]]:
    """Every string in a JSON value with its path (``$.items[0].name``)."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _strings(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in _strings(item, f"{path}[{i}]")]
    return []
