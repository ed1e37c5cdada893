"""Man pages as shipped (``tar.1``, ``ssh.1.gz``, ``ssl.7ssl.gz``): rendered by groff, the
formatter ``man`` itself uses (man(7) and mdoc(7) alike), then read back by layout.

groff renders with an unbounded line length and no hyphenation, so every paragraph comes out
as one line, as its author wrote it rather than as a terminal wrapped it. Headings sit at the
left margin (NAME, OPTIONS), subheadings a few columns in; an entry of a tagged list (an option,
a variable, a builtin) is its term followed by a deeper-indented description, or both on one
line. Each entry becomes one block, ``term: description``, so the sentence that describes an
option also names it. Line numbers are those of the rendered page as stored. A file named like
a page but without roff in it (``app.log.1``) is read as plain text.
"""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from typing import ClassVar

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    ParseError,
    Sections,
    TextBuilder,
    decode_text,
)
from verirag.documents.text import TextParser

# ``name.section[suffix][.gz]``: section 1-9, then an optional package suffix (1ssl, 3pm, 1p).
MAN_NAME = re.compile(r"\.([1-9])[a-z0-9]{0,6}(\.gz)?$", re.IGNORECASE)
_ROFF = re.compile(r"^\.(TH|Dd|Dt|SH|Sh)\b", re.MULTILINE)
_LINK = re.compile(r"^\.so\s+(\S+)", re.MULTILINE)
# A term and its description on one line: the term, then a gap of two or more spaces.
_SAME_LINE = re.compile(r"^([-+][^ ].*?)\s{2,}(\S.*)$")
_TIMEOUT_S = 60
# Both macro packages indent a subheading by 3 ens and the body by more (man 7, mdoc 5).
_SUBHEADING = 3
_TERM_CHARS = 80  # an option's term above its description, not a paragraph

# -mandoc: man(7) or mdoc(7), whichever the page is; -t: tables; -P-cbou: plain characters.
_GROFF = ["-mandoc", "-t", "-Tutf8", "-P-cbou", "-rLL=100000n", "-rHY=0", "-rcR=1", "-K", "utf8"]


def is_man_page(name: str) -> bool:
    return MAN_NAME.search(name.rsplit("/", 1)[-1]) is not None


def render(source: str) -> str:
    """The page as groff renders it: UTF-8, no overstrikes, one line per paragraph."""
    groff = shutil.which("groff")
    if groff is None:
        raise ParseError("man pages need groff (Debian: apt install groff-base)")
    try:
        done = subprocess.run(
            [groff, *_GROFF],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ParseError(f"groff did not finish within {_TIMEOUT_S} s") from None
    if done.returncode != 0 or not done.stdout.strip():
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ParseError(f"groff failed: {message[-1] if message else 'no output'}")
    return done.stdout.decode("utf-8", "replace")


class ManParser:
    """Sections from the headings, one block per paragraph and per list entry."""

    # The file names are matched by :data:`MAN_NAME` (verirag.documents.parser_for).
    suffixes: ClassVar[tuple[str, ...]] = ()

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise ParseError(f"corrupt gzip data: {exc}") from None
        source = decode_text(data)
        base = name.rsplit("/", 1)[-1]
        match = MAN_NAME.search(base)
        title = f"{base[: match.start()]}({match.group(1)})" if match else base
        if _ROFF.search(source):
            return read_rendered(render(source), title)
        if link := _LINK.search(source):
            raise ParseError(f"a link to {link.group(1)}, not a page of its own")
        return TextParser().parse(data, name)  # ``app.log.1``: a rotated log, not a page


def read_rendered(rendered: str, title: str) -> ParsedDocument:
    """Blocks from groff's plain-text layout (see the module docstring)."""
    lines = rendered.splitlines()
    numbered = [(n, line.rstrip()) for n, line in enumerate(lines, start=1) if line.strip()]
    if len(numbered) > 2:  # the running head ("TAR(1) ... TAR(1)") and foot
        numbered = numbered[1:-1]
    out, sections = TextBuilder(), Sections()
    section: tuple[str, ...] = ()
    i = 0
    while i < len(numbered):
        number, line = numbered[i]
        indent, text = _indent(line), line.strip()
        if indent <= _SUBHEADING:  # a heading at the margin, a subheading a little in
            section = sections.push(1 if indent == 0 else 2, text)
            out.add(text, BlockKind.HEADING, section, lines=(number, number))
            i += 1
            continue
        if _is_term(numbered, i):
            # A term, then its description: the run of lines at the description's indent.
            depth, j = _indent(numbered[i + 1][1]), i + 1
            while (
                j + 1 < len(numbered)
                and numbered[j + 1][0] == numbered[j][0] + 1
                and _indent(numbered[j + 1][1]) == depth
                and not _is_term(numbered, j + 1)
            ):
                j += 1
            description = " ".join(numbered[k][1].strip() for k in range(i + 1, j + 1))
            out.add(
                f"{text}: {description}",
                BlockKind.LIST_ITEM,
                section,
                lines=(number, numbered[j][0]),
            )
            i = j + 1
            continue
        if same := _SAME_LINE.match(text):
            out.add(
                f"{same.group(1)}: {same.group(2)}",
                BlockKind.LIST_ITEM,
                section,
                lines=(number, number),
            )
        else:
            out.add(text, BlockKind.PARAGRAPH, section, lines=(number, number))
        i += 1
    return out.build(title, "man")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_term(numbered: list[tuple[int, str]], k: int) -> bool:
    """Whether line ``k`` opens a nested entry: the next line is deeper and adjacent, or an
    option's description one blank line below it (help2man's ``.HP`` and ``.IP``, as in
    sed(1) and the coreutils pages)."""
    if k + 1 >= len(numbered) or _indent(numbered[k + 1][1]) <= _indent(numbered[k][1]):
        return False
    gap = numbered[k + 1][0] - numbered[k][0]
    term = numbered[k][1].strip()
    return gap == 1 or (gap == 2 and term[:1] in "-+" and len(term) <= _TERM_CHARS)
