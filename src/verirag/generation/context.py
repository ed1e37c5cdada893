"""Context assembly: de-duplicate, merge adjacent chunks, order by relevance, fit a budget."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from verirag.access import may_read
from verirag.generation._base import Part, Source
from verirag.generation.cues import inert
from verirag.retrieval import SearchResult
from verirag.store import Catalog
from verirag.text import replaced

Edits = Callable[[str, int], Sequence[tuple[str, str]]]
"""(doc id, version) -> what that version's edit rewrote: (old sentences, new sentences) runs."""


class Rewrites:
    """What each version says in place of the previous version's sentences, computed once per
    version (versions are immutable), and shown to a reader only if they may read the
    version it replaced."""

    def __init__(self, catalog: Catalog, cached: int = 4096) -> None:
        self.catalog = catalog
        self._rewrote = functools.lru_cache(maxsize=cached)(self._compute)

    def for_reader(self, groups: Sequence[str] | None) -> Edits:
        """The :data:`Edits` a reader of ``groups`` (``None``: everything) may be shown."""

        def edits(doc_id: str, version: int) -> tuple[tuple[str, str], ...]:
            access, found = self._rewrote(doc_id, version)
            return found if may_read(groups, access) else ()

        return edits

    def _compute(self, doc_id: str, version: int) -> tuple[list[str], tuple[tuple[str, str], ...]]:
        before = self.catalog.previous(doc_id, version)
        if before is None:
            return [], ()
        now = self.catalog.version(doc_id, version).text or ""
        return before.access, tuple(replaced(before.text or "", now))


def assemble(
    results: Sequence[SearchResult],
    *,
    budget_tokens: int,
    count_tokens: Callable[[str], int],
    edits: Edits | None = None,
) -> list[Source]:
    """Numbered sources from search results (best first): chunks of one document version that
    touch or overlap, in one section, are merged into one passage (overlap text once), and
    sources are added in order of their best chunk until the next would exceed
    ``budget_tokens``. With ``edits``, a passage of a changed document carries what its
    version rewrote in it."""
    unique: dict[str, SearchResult] = {}
    for result in results:
        key = f"{result.doc_id}\x00{result.version}\x00{result.char_start}"
        if key not in unique:
            unique[key] = result
    by_version: dict[tuple[str, int], list[SearchResult]] = {}
    for result in unique.values():
        by_version.setdefault((result.doc_id, result.version), []).append(result)

    groups: list[list[SearchResult]] = []
    for chunks in by_version.values():
        chunks.sort(key=lambda r: r.char_start)
        run = [chunks[0]]
        for chunk in chunks[1:]:
            # Separated by at most whitespace, under the same heading: one passage (its label
            # names one section, so a passage never spans two).
            touching = chunk.char_start <= max(r.char_end for r in run) + 2
            if touching and chunk.section == run[-1].section:
                run.append(chunk)
            else:
                groups.append(run)
                run = [chunk]
        groups.append(run)
    groups.sort(key=lambda run: -max(r.score for r in run))

    sources: list[Source] = []
    used = 0
    for run in groups:
        # Document text is data: a "[2]" or a "<source>" written in it must never read as a
        # citation or a delimiter to whatever generator comes next.
        merged, offsets = _merged_text(run)
        text = inert(merged)
        cost = count_tokens(text)
        if sources and used + cost > budget_tokens:
            continue  # a smaller later passage may still fit
        used += cost
        first = run[0]
        changed: tuple[tuple[str, str], ...] = ()
        if edits is not None and first.version > 1:
            passage = " ".join(text.split())
            changed = tuple(
                (old, new) for old, new in edits(first.doc_id, first.version) if new in passage
            )
        pages = [p for r in run for p in (r.page_start, r.page_end) if p is not None]
        lines = [n for r in run for n in (r.line_start, r.line_end) if n is not None]
        sources.append(
            Source(
                n=len(sources) + 1,
                doc_id=first.doc_id,
                version=first.version,
                title=first.title,
                section=first.section,
                text=text,
                char_start=first.char_start,
                char_end=max(r.char_end for r in run),
                page_start=min(pages) if pages else None,
                page_end=max(pages) if pages else None,
                chunk_ids=tuple(r.chunk_id for r in run),
                score=max(r.score for r in run),
                ingested_at=first.ingested_at,
                edits=changed,
                line_start=min(lines) if lines else None,
                line_end=max(lines) if lines else None,
                parts=tuple(
                    Part(at, r.chunk_id, r.page_start, r.page_end, r.line_start, r.line_end)
                    for r, at in zip(run, offsets, strict=True)
                    if at is not None
                ),
            )
        )
    return sources


def _merged_text(run: Sequence[SearchResult]) -> tuple[str, list[int | None]]:
    """The run's text, overlaps once, and where each chunk starts in it (``None``: a chunk
    wholly inside the one before)."""
    text, end = run[0].text, run[0].char_end
    offsets: list[int | None] = [0]
    for chunk in run[1:]:
        if chunk.char_end <= end:
            offsets.append(None)
            continue
        skip = max(0, end - chunk.char_start)  # overlap between split pieces
        gap = "" if skip else "\n"
        offsets.append(len(text) + len(gap) - skip)
        text += gap + chunk.text[skip:]
        end = chunk.char_end
    return text, offsets
