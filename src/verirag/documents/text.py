"""Plain text: paragraphs separated by blank lines."""

from __future__ import annotations

from typing import ClassVar

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    TextBuilder,
    blank_line_blocks,
    decode_text,
    stem,
)


class TextParser:
    suffixes: ClassVar[tuple[str, ...]] = (".txt", ".text", ".rst", ".log")

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        out = TextBuilder()
        for text, lines in blank_line_blocks(decode_text(data)):
            out.add(text, BlockKind.PARAGRAPH, lines=lines)
        return out.build(stem(name), "text")
