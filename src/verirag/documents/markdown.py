"""Markdown (CommonMark + tables) through markdown-it-py: headings, paragraphs, lists,
tables and code, each with its source line range."""

from __future__ import annotations

from typing import ClassVar

from markdown_it import MarkdownIt
from markdown_it.token import Token

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    Sections,
    TextBuilder,
    decode_text,
    stem,
)

_MD = MarkdownIt("commonmark").enable("table")


def _inline_text(token: Token) -> str:
    """Plain text of an inline token: markup dropped, link text kept, soft breaks as spaces."""
    out: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out)


def _lines(token: Token) -> tuple[int, int] | None:
    return (token.map[0] + 1, token.map[1]) if token.map else None


class MarkdownParser:
    suffixes: ClassVar[tuple[str, ...]] = (".md", ".markdown")

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        source = decode_text(data)
        tokens = _MD.parse(source)
        out = TextBuilder()
        sections = Sections()
        title: str | None = None
        list_stack: list[tuple[str, int]] = []  # (marker kind, next number)
        item_prefix: str | None = None
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if kind == "heading_open":
                text = _inline_text(tokens[i + 1]).strip()
                level = int(tok.tag[1])
                path = sections.push(level, text)
                if title is None and level == 1:
                    title = text
                out.add(text, BlockKind.HEADING, path, lines=_lines(tok))
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                start = int(tok.attrGet("start") or 1) if kind == "ordered_list_open" else 0
                list_stack.append(("ol" if kind == "ordered_list_open" else "ul", start))
            elif kind in ("bullet_list_close", "ordered_list_close"):
                list_stack.pop()
            elif kind == "list_item_open":
                marker, number = list_stack[-1]
                indent = "  " * (len(list_stack) - 1)
                item_prefix = f"{indent}{number}. " if marker == "ol" else f"{indent}- "
                if marker == "ol":
                    list_stack[-1] = (marker, number + 1)
            elif kind == "paragraph_open":
                text = _inline_text(tokens[i + 1])
                if list_stack:
                    # Only an item's first paragraph carries the marker.
                    prefix = item_prefix or "  " * len(list_stack)
                    item_prefix = None
                    out.add(prefix + text, BlockKind.LIST_ITEM, sections.path, lines=_lines(tok))
                else:
                    out.add(text, BlockKind.PARAGRAPH, sections.path, lines=_lines(tok))
                i += 3
                continue
            elif kind in ("fence", "code_block"):
                out.add(
                    tok.content, BlockKind.CODE, sections.path, lines=_lines(tok), verbatim=True
                )
            elif kind == "table_open":
                i = self._table(tokens, i, out, sections.path)
                continue
            elif kind == "html_block":
                out.add(tok.content, BlockKind.PARAGRAPH, sections.path, lines=_lines(tok))
            i += 1
        return out.build(title or stem(name), "markdown")

    @staticmethod
    def _table(tokens: list[Token], i: int, out: TextBuilder, section: tuple[str, ...]) -> int:
        lines = _lines(tokens[i])
        rows: list[str] = []
        cells: list[str] = []
        while tokens[i].type != "table_close":
            tok = tokens[i]
            if tok.type == "inline":
                cells.append(_inline_text(tok).strip())
            elif tok.type == "tr_close":
                rows.append(" | ".join(cells))
                cells = []
            i += 1
        out.add("\n".join(rows), BlockKind.TABLE, section, lines=lines, verbatim=True)
        return i + 1
