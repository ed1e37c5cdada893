"""What searches return, and the small types the facade's signatures share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from verirag.retrieval import ScoredChunk
from verirag.store import ChunkDetail

AsOf = datetime | float | str
EmbedProgress = Callable[[int, int], None]  # (chunks done, chunks to do)


def as_timestamp(value: AsOf) -> float:
    """Unix time from a datetime, a number, or an ISO-8601 string (naive means UTC)."""
    if isinstance(value, int | float):
        return float(value)
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


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
