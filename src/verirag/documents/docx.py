"""DOCX through python-docx: heading styles become sections; list paragraphs and tables kept."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any, ClassVar

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    ParseError,
    Sections,
    TextBuilder,
    stem,
)

_HEADING = re.compile(r"^Heading (\d)$")


def _is_list(paragraph: Any) -> bool:
    style = paragraph.style.name if paragraph.style is not None else ""
    if style.startswith("List"):
        return True
    ppr = paragraph._p.pPr
    return ppr is not None and ppr.numPr is not None


# A DOCX is a zip: what it inflates to is checked before anything is inflated. Real
# documents run to a few MB of XML (and images, stored as they are); a zip bomb to GBs.
MAX_UNZIPPED_BYTES = 256 * 2**20
MAX_RATIO = 200  # deflate reaches ~10x on XML; more than 200x is built to explode


def _check_unzipped_size(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ParseError(f"not a readable DOCX file: {exc}") from exc
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED_BYTES:
        raise ParseError(
            f"decompresses to {total / 2**20:.0f} MB (the limit is {MAX_UNZIPPED_BYTES // 2**20} "
            "MB): a zip bomb?"
        )
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > 10 * 2**20 and ratio > MAX_RATIO:
            raise ParseError(f"{m.filename} inflates {int(ratio)}x: a zip bomb?")


class DocxParser:
    suffixes: ClassVar[tuple[str, ...]] = (".docx",)

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        import docx  # deferred: python-docx imports lxml, which start-up need not pay for
        from docx.opc.exceptions import PackageNotFoundError

        if not data.strip():
            raise ParseError("empty file")
        _check_unzipped_size(data)
        try:
            document = docx.Document(io.BytesIO(data))
        except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise ParseError(f"not a readable DOCX file: {exc}") from exc
        out = TextBuilder()
        sections = Sections()
        title = (document.core_properties.title or "").strip()
        for item in document.iter_inner_content():
            if hasattr(item, "rows"):  # a table
                rows = []
                for row in item.rows:
                    cells = [" ".join(cell.text.split()) for cell in row.cells]
                    rows.append(" | ".join(cells))
                out.add("\n".join(rows), BlockKind.TABLE, sections.path, verbatim=True)
                continue
            text = item.text
            style = item.style.name if item.style is not None else ""
            heading = _HEADING.match(style)
            if style == "Title":
                title = title or text.strip()
                out.add(text, BlockKind.HEADING, sections.push(0, text.strip()))
            elif heading:
                out.add(text, BlockKind.HEADING, sections.push(int(heading[1]), text.strip()))
            elif _is_list(item):
                out.add("- " + text, BlockKind.LIST_ITEM, sections.path)
            else:
                out.add(text, BlockKind.PARAGRAPH, sections.path)
        return out.build(title or stem(name), "docx")
