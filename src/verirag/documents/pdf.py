"""PDF through pypdf: text per page (page numbers kept), running headers, footers and printed
page numbers dropped, paragraphs rebuilt from lines (words hyphenated at a line end rejoined),
sections from the outline (bookmarks) where the file has one."""

from __future__ import annotations

import io
import re
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    ParseError,
    Sections,
    TextBuilder,
    join_lines,
    words_of,
)

_END = re.compile(r"[.!?:;)\]\"'\u201d\u2019]$")
_LIST_MARKER = re.compile(r"^(?:[-•*▪◦]|\d{1,3}[.)])\s")


_EDGE = 2  # lines at the top and at the bottom of a page where running heads are printed
_NUMBERED = re.compile(r"^(\d{1,4})\b|\b(\d{1,4})$")
_DIGITS = re.compile(r"\d+")


def _running(pages: list[list[str]]) -> list[set[int]]:
    """Per page, the indices of its running header and footer lines: near the top or the
    bottom, a line that recurs on many pages (digits aside: "Shared MIME-info Database",
    "Page 3 of 9"), or one that starts or ends with the page's printed number, which follows
    the page order ("Chapter 2: ASN.1 structure handling 3", a lone "8")."""
    # Per page, its edge lines as (index, the line with digits as "#", its printed number).
    edges = [
        [
            (i, _DIGITS.sub("#", lines[i]), _printed(lines[i]))
            for i in range(len(lines))
            if i < _EDGE or i >= len(lines) - _EDGE
        ]
        for lines in pages
    ]
    seen: dict[str, int] = {}
    offsets: dict[int, int] = {}
    for number, near in enumerate(edges):
        for key in {key for _, key, _ in near}:
            seen[key] = seen.get(key, 0) + 1
        for _, _, printed in near:
            if printed is not None:
                offsets[printed - number] = offsets.get(printed - number, 0) + 1
    often = max(3, int(0.3 * len(pages)))
    common = max(offsets, key=lambda o: offsets[o], default=None)
    numbering = common if common is not None and offsets[common] >= often else None
    return [
        {
            i
            for i, key, printed in near
            if seen[key] >= often
            or (numbering is not None and printed == number + numbering and len(lines[i]) <= 80)
        }
        for number, (lines, near) in enumerate(zip(pages, edges, strict=True))
    ]


def _printed(line: str) -> int | None:
    """The number a line starts or ends with (a page number, if it is a running head)."""
    found = _NUMBERED.search(line)
    return int(found.group(1) or found.group(2)) if found else None


def _paragraphs(page_text: str, known: AbstractSet[str] = frozenset()) -> list[str]:
    """Rejoin extracted lines into paragraphs: a short line with closing punctuation ends one,
    a short line without it standing alone is a heading-like line."""
    lines = [line.strip() for line in page_text.splitlines()]
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current: list[str] = []

    def close() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    for line in lines:
        if not line:
            close()
            continue
        short = len(line) < 0.8 * width
        heading_like = not _END.search(line) and len(line) < 0.6 * width
        if heading_like and (not current or _END.search(current[-1])):
            close()
            paragraphs.append(line)
            continue
        if _LIST_MARKER.match(line):
            close()
        if current and current[-1].endswith("-"):
            current[-1] = join_lines(current[-1], line, known)  # hyphenated across lines
        else:
            current.append(line)
        if short and _END.search(line):
            close()
    close()
    return paragraphs


def _outline(reader: PdfReader) -> dict[int, list[tuple[int, str]]]:
    """Outline entries by 0-based page: (level, title), in document order."""
    entries: dict[int, list[tuple[int, str]]] = {}

    def visit(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                visit(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except (PyPdfError, KeyError, AttributeError, TypeError, ValueError):
                continue
            title = " ".join(str(item.title or "").split())
            if page is not None and page >= 0 and title:
                entries.setdefault(page, []).append((level, title))

    try:
        visit(list(reader.outline), 1)
    except (PyPdfError, KeyError, AttributeError, TypeError, ValueError):
        return {}
    return entries


class PDFParser:
    suffixes: ClassVar[tuple[str, ...]] = (".pdf",)

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        if not data.strip():
            raise ParseError("empty file")
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ParseError("encrypted PDF (a password is needed)")
            pages = [page.extract_text() or "" for page in reader.pages]
            outline = _outline(reader)
            info = reader.metadata
            meta_title = str(info.title).strip() if info and info.title else ""
        except ParseError:
            raise
        except Exception as exc:  # pypdf raises many types on damaged files
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ParseError(f"corrupt or unreadable PDF: {reason}") from exc
        if not any(p.strip() for p in pages):
            raise ParseError("no extractable text (scanned or image-only PDF? OCR it first)")

        known = words_of("\n".join(pages))
        split = [[line.strip() for line in page.splitlines() if line.strip()] for page in pages]
        running = _running(split)
        out = TextBuilder()
        sections = Sections()
        first_line = ""
        for number, lines in enumerate(split):
            pending = list(outline.get(number, []))
            body = "\n".join(line for i, line in enumerate(lines) if i not in running[number])
            for paragraph in _paragraphs(body, known):
                first_line = first_line or paragraph
                kind = BlockKind.PARAGRAPH
                if pending and paragraph.lower().startswith(pending[0][1].lower()):
                    level, title = pending.pop(0)
                    sections.push(level, title)
                    if len(paragraph) <= len(title) + 2:
                        kind = BlockKind.HEADING
                out.add(paragraph, kind, sections.path, page=number + 1)
            for level, title in pending:  # headings not found in the text still start sections
                sections.push(level, title)
        title = meta_title or first_line[:120] or name
        return out.build(title, "pdf", {"pages": len(pages)})
