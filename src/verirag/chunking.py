"""Structure-aware chunking within a token budget measured by the embedder's own tokenizer.

Chunks never cross a section boundary; whole blocks (paragraphs, list items, tables, code
units, rows, records) are packed together while they fit; a block too long for the budget is
split at sentence (prose) or line (code, tables, records) boundaries, with a small overlap
between its pieces. Every chunk is an exact slice of the document's normalised text, so its
character span can be highlighted in the source.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from verirag.documents import Block, BlockKind, ParsedDocument, chunk_key_text
from verirag.text import SPECIAL_TOKENS, TokenCounter, line_spans, load_tokenizer, sentence_spans


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable unit: ``text == document.text[start:end]``."""

    id: str
    ordinal: int
    text: str
    start: int
    end: int
    section: tuple[str, ...]
    context: str  # title and section breadcrumbs, prepended when the chunk is embedded
    n_tokens: int
    page_start: int | None = None
    page_end: int | None = None
    line_start: int | None = None
    line_end: int | None = None


def page_range(start: int | None, end: int | None) -> str:
    """Pages as a citation names them: ``p. 3``, ``pp. 3-5``; empty without pages."""
    if start is None:
        return ""
    return f"pp. {start}-{end}" if end not in (None, start) else f"p. {start}"


def line_range(start: int, end: int | None) -> str:
    """Lines as a citation names them: ``line 4``, ``lines 4-9``."""
    return f"lines {start}-{end}" if end not in (None, start) else f"line {start}"


def chunk_id(doc_id: str, text: str) -> str:
    """Content identity: the same text in the same document keeps its id across versions."""
    digest = hashlib.sha256(f"{doc_id}\x00{chunk_key_text(text)}".encode())
    return digest.hexdigest()[:32]


def embedded_text(context: str, text: str) -> str:
    """What is embedded, scored by BM25 and shown to a re-ranker for a chunk."""
    return f"{context}\n{text}"


def breadcrumb(title: str, section: tuple[str, ...]) -> str:
    parts = list(section)
    if not parts or parts[0].casefold() != title.casefold():
        parts.insert(0, title)
    return " > ".join(p for p in parts if p)


@dataclass(slots=True)
class _Unit:
    start: int
    end: int
    tokens: int
    block: int  # index of the block it comes from
    piece: bool  # part of a block that was split


class Chunker:
    """Cuts a parsed document into chunks of at most ``max_tokens`` (section context included)."""

    def __init__(self, tokenizer: TokenCounter, max_tokens: int = 256, overlap: int = 32) -> None:
        if max_tokens < 32:
            raise ValueError("max_tokens must be at least 32")
        if not 0 <= overlap < max_tokens // 2:
            raise ValueError("overlap must be between 0 and max_tokens / 2")
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.overlap = overlap

    def chunk(self, doc_id: str, doc: ParsedDocument) -> list[Chunk]:
        blocks = doc.blocks
        counts = self.tokenizer.count([doc.text[b.start : b.end] for b in blocks])
        groups: list[list[int]] = []
        for i, block in enumerate(blocks):
            if groups and blocks[groups[-1][-1]].section == block.section:
                groups[-1].append(i)
            else:
                groups.append([i])
        contexts = {g[0]: breadcrumb(doc.title, blocks[g[0]].section) for g in groups}
        context_tokens = dict(
            zip(contexts, self.tokenizer.count(list(contexts.values())), strict=True)
        )

        spans: list[tuple[list[_Unit], str]] = []
        for group in groups:
            if all(blocks[i].kind is BlockKind.HEADING for i in group) and len(groups) > 1:
                continue  # a bare heading is already the context of the chunks below it
            # A very long breadcrumb may take at most half the budget.
            budget = (
                self.max_tokens
                - SPECIAL_TOKENS
                - min(context_tokens[group[0]], self.max_tokens // 2)
            )
            units: list[_Unit] = []
            for i in group:
                if counts[i] <= budget:
                    units.append(_Unit(blocks[i].start, blocks[i].end, counts[i], i, False))
                else:
                    units.extend(self._split(doc.text, blocks[i], i, budget))
            for packed in self._pack(units, budget):
                spans.append((packed, contexts[group[0]]))

        chunks: list[Chunk] = []
        for ordinal, (units, context) in enumerate(spans):
            start, end = units[0].start, units[-1].end
            text = doc.text[start:end]
            covered = blocks[units[0].block : units[-1].block + 1]
            pages = [b.page for b in covered if b.page is not None]
            lines = [b.lines for b in covered if b.lines is not None]
            chunks.append(
                Chunk(
                    id=chunk_id(doc_id, text),
                    ordinal=ordinal,
                    text=text,
                    start=start,
                    end=end,
                    section=blocks[units[0].block].section,
                    context=context,
                    n_tokens=sum(u.tokens for u in units),
                    page_start=min(pages) if pages else None,
                    page_end=max(pages) if pages else None,
                    line_start=lines[0][0] if lines else None,
                    line_end=lines[-1][1] if lines else None,
                )
            )
        return chunks

    def _split(self, text: str, block: Block, index: int, budget: int) -> list[_Unit]:
        body = text[block.start : block.end]
        prose = block.kind in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM, BlockKind.HEADING)
        local = sentence_spans(body) if prose else line_spans(body)
        counts = self.tokenizer.count([body[a:b] for a, b in local])
        units: list[_Unit] = []
        for (a, b), n in zip(local, counts, strict=True):
            if n <= budget:
                units.append(_Unit(block.start + a, block.start + b, n, index, True))
                continue
            # One sentence or line longer than the budget: cut between tokens, preferably
            # between words (a word may be several tokens).
            segment = body[a:b]
            ends = self.tokenizer.token_ends(segment)
            first, char_from = 0, 0
            while first < len(ends):
                last = min(first + budget, len(ends))
                if last < len(ends):
                    at_word = last
                    while at_word > first + 1 and not segment[ends[at_word - 1]].isspace():
                        at_word -= 1
                    last = at_word if at_word > first + 1 else last
                char_to = ends[last - 1]
                start = block.start + a + char_from
                units.append(_Unit(start, block.start + a + char_to, last - first, index, True))
                char_from = char_to
                while char_from < len(segment) and segment[char_from].isspace():
                    char_from += 1
                first = last
        return units

    def _pack(self, units: list[_Unit], budget: int) -> list[list[_Unit]]:
        chunks: list[list[_Unit]] = []
        current: list[_Unit] = []
        size = 0
        for unit in units:
            if current and size + unit.tokens > budget:
                chunks.append(current)
                carried: list[_Unit] = []
                if unit.piece and current[-1].piece and current[-1].block == unit.block:
                    # Overlap: repeat trailing pieces of the same split block.
                    room = min(self.overlap, budget - unit.tokens)
                    for prev in reversed(current):
                        if prev.block != unit.block or prev.tokens > room:
                            break
                        carried.insert(0, prev)
                        room -= prev.tokens
                current, size = carried, sum(u.tokens for u in carried)
            current.append(unit)
            size += unit.tokens
        if current:
            chunks.append(current)
        return chunks


class FixedChunker(Chunker):
    """Fixed windows of ``max_tokens`` tokens with no regard for structure and no context:
    the naive baseline that ``verirag eval qa --ablation`` compares against."""

    def chunk(self, doc_id: str, doc: ParsedDocument) -> list[Chunk]:
        ends = self.tokenizer.token_ends(doc.text)
        chunks: list[Chunk] = []
        start = 0
        for first in range(0, len(ends), self.max_tokens):
            window = ends[first : first + self.max_tokens]
            end = window[-1]
            text = doc.text[start:end].strip()
            if text:
                offset = start + doc.text[start:end].index(text[0])
                chunks.append(
                    Chunk(
                        chunk_id(doc_id, text),
                        len(chunks),
                        text,
                        offset,
                        offset + len(text),
                        (),
                        "",
                        len(window),
                    )
                )
            start = end
        return chunks


def load_chunker(
    tokenizer: str, kind: str = "structure", tokens: int = 256, overlap: int = 32
) -> Chunker:
    """A structure-aware chunker (or ``kind="fixed"`` token windows, a baseline) counting with
    the named tokenizer."""
    cls = FixedChunker if kind == "fixed" else Chunker
    return cls(load_tokenizer(tokenizer), tokens, overlap)
