"""Text as its author wrote it: hard-wrapped plain text unwrapped into paragraphs (a real
licence file, a real groff rendering), what the layout means kept (code, lists, underlines),
and PDF pages without their running headers, footers and page numbers, with words hyphenated
at line ends rejoined."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from verirag.documents import ParsedDocument, parse
from verirag.documents.text import unwrap

# base-files ships it on every Debian system: hard-wrapped at 72 columns, indented paragraphs.
GPL = Path("/usr/share/common-licenses/GPL-3")

PAGE = r""".TH GRIPE 1 "2026-12-01" "gripe 2.0" "User Commands"
.SH DESCRIPTION
The \fBgripe\fR utility prints every line of its input that matches one of the complaints
given to it on the command line, in the order in which the lines were read, and it stops at
the end of the input.
.TP
.B \-i
Ignore case distinctions in patterns and input data, so that characters that differ only in
case match each other, wherever they occur in a line.
"""


def texts(doc: ParsedDocument) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks]


def test_a_hard_wrapped_licence_reads_in_paragraphs() -> None:
    doc = parse(GPL.read_bytes(), "GPL-3.txt")
    found = texts(doc)
    assert (
        "The GNU General Public License is a free, copyleft license for software and other "
        "kinds of works." in found
    )
    when = next(t for t in found if t.startswith("When we speak of free software"))
    assert "\n" not in when and "referring to freedom, not price. Our General" in when
    block = doc.blocks[found.index(when)]
    assert block.lines is not None and block.lines[1] > block.lines[0]  # the lines it spans


def test_a_terminal_rendering_loses_overstrikes_justification_and_wraps() -> None:
    groff = shutil.which("groff")
    assert groff, "test.sh installs groff-base"
    # -P-c: the old terminal output, bold as overstrikes ("g\bgr\br..."), justified at 78.
    rendered = subprocess.run(
        [groff, "-mandoc", "-Tutf8", "-P-c"], input=PAGE.encode(), capture_output=True, check=True
    ).stdout
    assert b"\x08" in rendered and b"  utility" in rendered
    lines = [line for block in texts(parse(rendered, "gripe.1.txt")) for line in block.split("\n")]
    assert "DESCRIPTION" in lines  # the heading stays a line of its own
    assert (
        "The gripe utility prints every line of its input that matches one of the complaints "
        "given to it on the command line, in the order in which the lines were read, and it "
        "stops at the end of the input." in lines
    )
    # The option's description continues at its hanging indent, below the term.
    assert (
        "-i Ignore case distinctions in patterns and input data, so that characters that differ "
        "only in case match each other, wherever they occur in a line." in lines
    )


def test_what_the_layout_means_is_kept() -> None:
    assert unwrap("int main(void) {\n    return 0;\n}") == "int main(void) {\n    return 0;\n}"
    assert unwrap("Installation\n============") == "Installation\n============"
    assert unwrap("Name: Jane Doe\nStreet: 5 Main St\nCity: Springfield, Illinois") == (
        "Name: Jane Doe\nStreet: 5 Main St\nCity: Springfield, Illinois"
    )
    assert unwrap("- a list item long enough to wrap onto\n  the next line\n- another") == (
        "- a list item long enough to wrap onto the next line\n- another"
    )
    # A log keeps its lines.
    log = b"2026-12-01 10:00:01 service started on port 8080 with four workers\nready\n"
    assert texts(parse(log, "app.log")) == [log.decode().strip()]


def test_hyphens_at_line_ends_rejoin_words_not_compounds() -> None:
    known = {"controls", "non-zero", "non", "zero"}
    assert unwrap("the option that con-\ntrols the backup policy", known) == (
        "the option that controls the backup policy"
    )
    # "non-zero" is what the document writes; "implementations" is an English word.
    assert unwrap("a value that is non-\nzero here", known) == "a value that is non-zero here"
    assert unwrap("other tar im-\nplementations", known) == "other tar implementations"


def _manual(path: Path) -> Path:
    """Four pages with a running header, a footer with the page number and a word hyphenated
    at a line end, as typesetters leave them."""
    from fpdf import FPDF

    class Manual(FPDF):
        def header(self) -> None:
            self.set_font("helvetica", "", 9)
            self.cell(0, 8, "Acme Pump Field Manual", align="C")
            self.ln(12)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("helvetica", "", 9)
            self.cell(0, 8, f"Page {self.page_no()}", align="C")

    pdf = Manual()
    pdf.set_auto_page_break(auto=True, margin=20)
    body = [
        ["The pump housing is inspected for corro-", "sion every week by the duty engineer."],
        ["A non-zero reading on the gauge means the", "valve is open."],
        ["The seals are replaced when the pressure", "drops below two bar for an hour."],
        ["Every inspection is written into the log", "book kept beside the pump."],
    ]
    for lines in body:
        pdf.add_page()
        pdf.set_font("helvetica", "", 11)
        for line in lines:
            pdf.cell(0, 6, line)
            pdf.ln(6)
    path.write_bytes(bytes(pdf.output()))
    return path


def test_pdf_pages_without_running_heads_and_with_rejoined_words(tmp_path: Path) -> None:
    doc = parse(_manual(tmp_path / "manual.pdf").read_bytes(), "manual.pdf")
    text = "\n".join(texts(doc))
    assert "Acme Pump Field Manual" not in text
    assert "Page " not in text
    assert "The pump housing is inspected for corrosion every week by the duty engineer." in text
    assert "A non-zero reading on the gauge means the valve is open." in text
    assert [
        b.page for b, t in zip(doc.blocks, texts(doc), strict=True) if t.startswith("The seals")
    ] == [3]
