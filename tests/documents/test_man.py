"""Man pages as packages ship them (roff, gzipped or not; man(7) and mdoc(7)), rendered by the
real groff: sections from the headings, one entry per option naming it, line numbers."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.conftest import write
from verirag import KnowledgeBase, Status

MAN7 = r""".TH GRIPE 1 "2026-11-30" "gripe 2.0" "User Commands"
.SH NAME
gripe \- print lines that match complaints
.SH SYNOPSIS
.B gripe
[\fIOPTION\fR...] \fIPATTERNS\fR [\fIFILE\fR...]
.SH OPTIONS
.SS "Matching Control"
.TP
.BR \-A ", " \-\-after\-context =\fINUM\fR
Print
.I NUM
lines of trailing context
after matching lines.
.TP
.B \-a
Process a binary file as if it were text;
this is equivalent to the
.B \-\-binary\-files=text
option.
.SS "Output Control"
.TP
.BR \-c ", " \-\-count
Suppress normal output; instead print a count of matching lines
for each input file.
.SH "EXIT STATUS"
The exit status is 0 if a line is selected, 1 if no lines were selected,
and 2 if an error occurred.
"""

MDOC = r""".Dd November 30, 2026
.Dt TUNNEL 1
.Os
.Sh NAME
.Nm tunnel
.Nd remote login client
.Sh DESCRIPTION
.Nm
connects and logs into the specified destination.
The options are as follows:
.Bl -tag -width Ds
.It Fl A
Enables forwarding of connections from an authentication agent.
This can also be specified on a per-host basis.
.It Fl a
Disables forwarding of the authentication agent connection.
.El
"""

# As help2man writes a page (sed(1), the coreutils): the term in .HP, its description in .IP,
# which groff renders a blank line apart.
HELP2MAN = r""".TH STREAM "1" "November 2026" "stream 4.9" "User Commands"
.SH NAME
stream \- stream editor for filtering and transforming text
.SH DESCRIPTION
.HP
\fB\-i[SUFFIX]\fR, \fB\-\-in\-place\fR[=\fI\,SUFFIX\/\fR]
.IP
edit files in place (makes backup if SUFFIX supplied)
.HP
\fB\-n\fR, \fB\-\-quiet\fR, \fB\-\-silent\fR
.IP
suppress automatic printing of pattern space
.PP
If no \fB\-e\fR option is given, the first non-option argument is the script.
"""


def test_man_and_mdoc_pages_keep_sections_entries_and_lines(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "gripe.1.gz").write_bytes(gzip.compress(MAN7.encode()))
    write(docs, "tunnel.1", MDOC)
    with KnowledgeBase(tmp_path / "kb") as kb:
        report = kb.ingest(docs)
        assert {o.status for o in report.outcomes} == {Status.NEW}, report.failed
        gripe = kb.chunks("gripe.1.gz")
        (title,) = [d.title for d in kb.documents() if d.doc_id == "gripe.1.gz"]
        assert title == "gripe(1)"
        text = "\n".join(c.text for c in gripe)
        # Each entry names its option in the sentence that describes it; source line breaks
        # inside a paragraph are gone.
        assert "-A, --after-context=NUM: Print NUM lines of trailing context after matching" in text
        assert "-a: Process a binary file as if it were text; this is equivalent to the" in text
        assert "The exit status is 0 if a line is selected, 1 if no lines were selected" in text
        sections = [c.section for c in gripe]
        assert ("OPTIONS", "Matching Control") in sections
        assert ("OPTIONS", "Output Control") in sections
        assert all(c.line_start is not None and c.line_end is not None for c in gripe)

        answer = kb.ask("Which gripe option prints lines of trailing context after matches?")
        assert "-A, --after-context=NUM" in answer.text
        label = answer.cited[0].label()
        assert label.startswith("[1] gripe(1) > OPTIONS > Matching Control, lines ")
        assert label.endswith("gripe.1.gz v1")

        tunnel = "\n".join(c.text for c in kb.chunks("tunnel.1"))
        assert "-A: Enables forwarding of connections from an authentication agent." in tunnel
        assert "-a: Disables forwarding of the authentication agent connection." in tunnel

        # Case matters in an option: the -A entry is the one that answers.
        hits = kb.search("Which option enables forwarding of the authentication agent?", k=3)
        assert hits[0].doc_id == "tunnel.1"
        assert "Enables forwarding" in hits[0].text
        assert kb.check() == []


def test_a_link_page_fails_with_its_reason_and_a_rotated_log_is_text(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "gunzip.1", ".so man1/gzip.1\n")
    write(docs, "app.log.1", "2026-11-30 12:00 started\n2026-11-30 12:01 stopped\n")
    (docs / "broken.1.gz").write_bytes(b"\x1f\x8b" + b"not gzip at all")
    with KnowledgeBase(tmp_path / "kb") as kb:
        report = kb.ingest(docs)
        assert report["gunzip.1"].status is Status.FAILED
        assert report["gunzip.1"].reason == "a link to man1/gzip.1, not a page of its own"
        assert report["broken.1.gz"].status is Status.FAILED
        assert (report["broken.1.gz"].reason or "").startswith("corrupt gzip data")
        assert report["app.log.1"].status is Status.NEW
        assert "started" in kb.chunks("app.log.1")[0].text


def test_help2man_entries_name_their_option(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "stream.1", HELP2MAN)
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest(docs)
        text = "\n".join(c.text for c in kb.chunks("stream.1"))
        assert "-i[SUFFIX], --in-place[=SUFFIX]: edit files in place (makes backup" in text
        assert "-n, --quiet, --silent: suppress automatic printing of pattern space" in text
        # A paragraph at the body's indent is not taken for a term.
        assert "\n\nIf no -e option is given, the first non-option argument" in text
        answer = kb.ask("Which stream option edits files in place?")
        assert answer.text.startswith("-i[SUFFIX], --in-place[=SUFFIX]: edit files in place")
