"""Writers for PDF and DOCX files made from Markdown: the fixtures and the sample corpus use them.

They render through verirag's own Markdown parser, so one source text yields a .md, a .pdf
and a .docx with the same headings, paragraphs, lists and tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from verirag.documents import BlockKind, parse


def _blocks(markdown: str) -> list[tuple[BlockKind, str, int]]:
    doc = parse(markdown.encode(), "source.md")
    return [(b.kind, doc.text[b.start : b.end], len(b.section)) for b in doc.blocks]


def write_pdf(path: Path, markdowns: Sequence[str], title: str) -> Path:
    """One page (or more) per Markdown text; headings become outline entries."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_auto_page_break(auto=True, margin=15)
    for markdown in markdowns:
        pdf.add_page()
        for kind, text, level in _blocks(markdown):
            if kind is BlockKind.HEADING:
                pdf.start_section(text, level=max(level - 1, 0))
                pdf.set_font("helvetica", "B", 18 - 2 * level)
                pdf.multi_cell(0, 9, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            else:
                pdf.set_font("courier" if kind is BlockKind.CODE else "helvetica", "", 11)
                for line in text.split("\n"):
                    pdf.multi_cell(0, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(3)
    path.write_bytes(bytes(pdf.output()))
    return path


def write_docx(path: Path, markdown: str, title: str) -> Path:
    """Headings as Word heading styles, list items as List Bullet, tables as tables."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for kind, text, level in _blocks(markdown):
        if kind is BlockKind.HEADING:
            document.add_heading(text, level=min(level, 9))
        elif kind is BlockKind.LIST_ITEM:
            document.add_paragraph(text.removeprefix("- "), style="List Bullet")
        elif kind is BlockKind.TABLE:
            rows = [row.split(" | ") for row in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path
