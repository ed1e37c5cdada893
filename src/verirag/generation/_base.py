"""What generators take and give: numbered sources, a generation, the Generator protocol."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from verirag.chunking import line_range, page_range


@dataclass(frozen=True, slots=True)
class Part:
    """One chunk of a merged source: where it starts in the source's text and where it is
    in its document."""

    offset: int
    chunk_id: str
    page_start: int | None = None
    page_end: int | None = None
    line_start: int | None = None
    line_end: int | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """One numbered passage given to a generator: adjacent chunks of one document version,
    merged, with everything a citation names."""

    n: int
    doc_id: str
    version: int
    title: str | None
    section: tuple[str, ...]
    text: str
    char_start: int
    char_end: int
    page_start: int | None
    page_end: int | None
    chunk_ids: tuple[str, ...]
    score: float
    ingested_at: float
    # The edit that made this version, where it changed this passage: (what the previous
    # version said, what this one says instead), sentence runs. Empty for a first version.
    edits: tuple[tuple[str, str], ...] = ()
    line_start: int | None = None  # 1-based, inclusive, where the format has lines
    line_end: int | None = None
    parts: tuple[Part, ...] = ()  # its chunks, in order (empty: one undivided passage)

    def at(self, spans: Sequence[tuple[int, int]]) -> Source:
        """The source as a citation of the text at ``spans`` (offsets in :attr:`text`) names
        it: the pages, lines and chunks of the parts that hold that text, not of the whole
        merged passage. Without parts, or without spans, the source itself."""
        if not self.parts or not spans:
            return self
        ends = [p.offset for p in self.parts[1:]] + [len(self.text) + 1]
        held = [
            part
            for part, end in zip(self.parts, ends, strict=True)
            if any(a < end and b > part.offset for a, b in spans)
        ]
        if not held:
            return self
        pages = [p for part in held for p in (part.page_start, part.page_end) if p is not None]
        lines = [n for part in held for n in (part.line_start, part.line_end) if n is not None]
        return dataclasses.replace(
            self,
            chunk_ids=tuple(part.chunk_id for part in held),
            page_start=min(pages) if pages else None,
            page_end=max(pages) if pages else None,
            line_start=min(lines) if lines else None,
            line_end=max(lines) if lines else None,
        )

    def label(self) -> str:
        """``[2] Refund Policy > Eligibility, p. 3, v2``: how the source is cited (lines where
        the document has no pages: ``lines 12-16``)."""
        title = self.title or self.doc_id
        section = list(self.section)
        if section and section[0].casefold() == title.casefold():
            section = section[1:]  # a Markdown H1 is the title itself
        parts = [" > ".join([title, *section])]
        if self.page_start is not None:
            parts.append(page_range(self.page_start, self.page_end))
        elif self.line_start is not None:
            parts.append(line_range(self.line_start, self.line_end))
        parts.append(f"{self.doc_id} v{self.version}")
        return f"[{self.n}] " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """What a citation names, as JSON values (the passage text left out; what this
        version rewrote in it kept)."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "version": self.version,
            "title": self.title,
            "section": list(self.section),
            "pages": [self.page_start, self.page_end],
            "lines": [self.line_start, self.line_end],
            "char_start": self.char_start,
            "char_end": self.char_end,
            "chunk_ids": list(self.chunk_ids),
            "ingested_at": self.ingested_at,
            "edits": [{"was": _clip(was), "now": _clip(now)} for was, now in self.edits],
            "label": self.label(),
        }


def _clip(text: str, limit: int = 500) -> str:
    """A rewrite as shown in citations and traces: a restructured section can be long."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(slots=True)
class Generation:
    text: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    prompt: list[dict[str, str]] = field(default_factory=list)  # chat messages, when any
    # The answer's sentences, each with its markers, when the generator knows where they end
    # (the extractive one quotes fragments that need not end in a full stop).
    parts: list[str] = field(default_factory=list)


TokenSink = Callable[[str], None]


class Generator(Protocol):
    """Writes an answer to ``question`` from ``sources``, citing them as ``[n]``."""

    model_id: str
    context_tokens: int  # the most source text (in embedder tokens) it is given

    def generate(
        self,
        question: str,
        sources: Sequence[Source],
        *,
        schema: dict[str, Any] | None = None,
        on_token: TokenSink | None = None,
    ) -> Generation: ...


class GenerationError(RuntimeError):
    """The generator could not produce an answer (endpoint down, invalid output twice...)."""
