"""PDF through pypdf: text per page (page numbers kept), paragraphs rebuilt from lines, sections
from the outline (bookmarks) where the file has one."""

from __future__ import annotations

import io
import re
from typing import Any, ClassVar

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from verirag.documents._base import BlockKind, ParsedDocument, ParseError, Sections, TextBuilder

_END = re.compile(r"[.!?:;)\]\"'\u201d\u2019]$")
_LIST_MARKER = re.compile(r"^(?:[-•*▪◦]|\d{1,3}[.)])\s")


def _paragraphs(page_text: str) -> list[str]:
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
        if current and current[-1].endswith("-") and line[:1].islower():
            current[-1] = current[-1][:-1] + line  # hyphenated across lines
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

        out = TextBuilder()
        sections = Sections()
        first_line = ""
        for number, page_text in enumerate(pages):
            pending = list(outline.get(number, []))
            for paragraph in _paragraphs(page_text):
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
