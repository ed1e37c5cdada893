"""What a search returns: a ranked chunk with its citation and its score at every stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from verirag.store import ChunkDetail

ChunkKey = tuple[str, int, int]  # doc_id, version, ordinal


@dataclass(slots=True)
class ScoredChunk:
    doc_id: str
    version: int
    chunk_id: str
    ordinal: int
    score: float
    scores: dict[str, float] = field(default_factory=dict)  # stage -> score
    ranks: dict[str, int] = field(default_factory=dict)  # stage -> 1-based rank

    @property
    def key(self) -> ChunkKey:
        return (self.doc_id, self.version, self.ordinal)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One retrieved chunk with its citation: document, version, section, page, lines, span."""

    doc_id: str
    version: int
    title: str | None
    section: tuple[str, ...]
    text: str
    context: str
    chunk_id: str
    char_start: int
    char_end: int
    page_start: int | None
    page_end: int | None
    line_start: int | None
    line_end: int | None
    ingested_at: float
    score: float
    scores: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)

    @classmethod
    def make(cls, scored: ScoredChunk, detail: ChunkDetail) -> SearchResult:
        c = detail.chunk
        return cls(
            doc_id=c.doc_id,
            version=c.version,
            title=detail.title,
            section=c.section,
            text=c.text,
            context=c.context,
            chunk_id=c.chunk_id,
            char_start=c.char_start,
            char_end=c.char_end,
            page_start=c.page_start,
            page_end=c.page_end,
            line_start=c.line_start,
            line_end=c.line_end,
            ingested_at=detail.ingested_at,
            score=scored.score,
            scores=dict(scored.scores),
            ranks=dict(scored.ranks),
        )
