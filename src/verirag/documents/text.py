"""Plain text: paragraphs separated by blank lines, hard-wrapped lines joined back.

Text wrapped at a fixed width (mail, RFCs, READMEs, ``man -P cat`` output) breaks sentences
across lines; a line is joined to the one before it unless the layout says it starts
something: a list marker, a deeper indent (an option's description, a quoted block), or a
previous line too short to have been wrapped (code, addresses, a verse), a line ending as code
does (``;``, ``{``), or a rule or heading underline (``=====``). Terminal overstrikes
(``b\\bb`` bold, ``_\\bx`` underline) are removed. A log is left line by line.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from typing import ClassVar

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    TextBuilder,
    blank_line_blocks,
    decode_text,
    join_lines,
    stem,
    words_of,
)

_OVERSTRIKE = re.compile(r".\x08")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•‣◦]\s|\d{1,3}[.)]\s|[a-zA-Z][.)]\s|\(\w{1,3}\)\s)")
# A line was wrapped when it reaches this share of the paragraph's longest line; text is
# wrapped at 72-80 columns (mail, RFCs, PEP 8, terminals), so lines wider than WRAPPED_AT are
# paragraphs written one per line (a structured abstract), not wrapped.
FULL = 0.7
WRAPPED_AT = 100
_RULE = re.compile(r"^\s*([=\-~^*#+_.])\1{2,}\s*$")  # an underline or a rule
_JUSTIFIED = re.compile(r"(?<=\S)  +(?=\S)")
_CODE_END = ("{", "}", ";", "\\")


class TextParser:
    suffixes: ClassVar[tuple[str, ...]] = (".txt", ".text", ".rst", ".log")

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        source = _OVERSTRIKE.sub("", decode_text(data))
        keep_lines = name.lower().endswith(".log")
        out = TextBuilder()
        known = words_of(source)
        for text, lines in blank_line_blocks(source):
            block = text if keep_lines else unwrap(text, known)
            out.add(block, BlockKind.PARAGRAPH, lines=lines)
        return out.build(stem(name), "text")


def unwrap(paragraph: str, known: AbstractSet[str] = frozenset()) -> str:
    """One paragraph's hard-wrapped lines joined; the breaks the layout means are kept.
    ``known``: the document's words (lower case), which settle a hyphen at a line end."""
    lines = [line.rstrip() for line in paragraph.split("\n")]
    widest = max(len(line) for line in lines)
    if widest > WRAPPED_AT:
        return paragraph
    out = [lines[0]]
    joined = [False]
    for i, line in enumerate(lines[1:], start=1):
        previous = lines[i - 1]
        indent, before = _indent(line), _indent(previous)
        wrapped = len(previous) >= FULL * widest and not previous.endswith(_CODE_END)
        continues = (
            not _LIST_MARKER.match(line)
            and not (_RULE.match(line) or _RULE.match(previous))
            and (
                indent == before
                or (indent < before and i == 1)  # a paragraph whose first line is indented
                or (indent > before and bool(_LIST_MARKER.match(previous)))  # a list item's tail
                or (indent > before and _hangs_at(previous, indent))  # "-i     Ignore ..."
            )
        )
        if not (wrapped and continues):
            out.append(line)
            joined.append(False)
            continue
        joined[-1] = True
        out[-1] = join_lines(out[-1], line.strip(), known)
    # Justified lines were padded with spaces between words; prose once joined is not.
    return "\n".join(
        _JUSTIFIED.sub(" ", line) if was else line for line, was in zip(out, joined, strict=True)
    )


def _hangs_at(line: str, column: int) -> bool:
    """Whether ``line`` is a term whose text, after a gap, starts at ``column`` (a hanging
    indent: the lines below continue that text, not the term)."""
    return line[column - 2 : column] == "  " and line[column : column + 1] not in ("", " ")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))
