"""Types shared by every parser: blocks with locations, and the builder that lays them out."""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from charset_normalizer import from_bytes

from verirag.text import vocabulary


class ParseError(Exception):
    """A document could not be read; the message is a one-line reason for the user."""


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE = "table"
    CODE = "code"
    ROW = "row"
    RECORD = "record"


@dataclass(frozen=True, slots=True)
class Block:
    """A structural unit of a document; ``start:end`` slices ``ParsedDocument.text``."""

    kind: BlockKind
    start: int
    end: int
    section: tuple[str, ...] = ()
    page: int | None = None
    lines: tuple[int, int] | None = None  # 1-based, inclusive, in the source file


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A document's normalised text and the blocks that cover it, in reading order."""

    text: str
    blocks: list[Block]
    title: str
    format: str
    metadata: dict[str, Any] = field(default_factory=dict)


class Parser(Protocol):
    """Turns the bytes of one file into a :class:`ParsedDocument`."""

    suffixes: ClassVar[tuple[str, ...]]

    def parse(self, data: bytes, name: str) -> ParsedDocument: ...


_SPACES = re.compile(r"[ \t\f\v\u00a0]+")


def _no_nul(text: str) -> str:
    """NUL as the replacement character: PostgreSQL's text cannot hold it (past the first 8 KB
    a text file with one is still read as text)."""
    return text.replace("\x00", "\ufffd")


def clean_prose(text: str) -> str:
    """NFC, single spaces, no blank lines: the form prose blocks are stored in."""
    text = _no_nul(unicodedata.normalize("NFC", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


_SOFT_HYPHENS = ("\u2010", "\u00ad")
_LINE_END_HYPHEN = re.compile(r"(?<![\w-])([^\W\d_]+)-$")
_WORD_HEAD = re.compile(r"^[^\W\d_]+")
_WORDS = re.compile(r"\w+(?:-\w+)*")


def words_of(text: str) -> set[str]:
    """A document's words and hyphenated compounds, lower case (for :func:`join_lines`)."""
    found = {w.lower() for w in _WORDS.findall(text)}
    return found | {part for word in found if "-" in word for part in word.split("-")}


def join_lines(left: str, right: str, known: AbstractSet[str]) -> str:
    """Two lines of one paragraph as one. A word broken at a hyphen is rejoined ("con-" +
    "trols"), unless the document writes it hyphenated elsewhere or it is no word without the
    hyphen ("non-" + "zero"): ``known`` is the document's :func:`words_of`. A typesetter's
    soft hyphen (U+2010, U+00AD) is never part of the word."""
    if left.endswith(_SOFT_HYPHENS):
        return left[:-1] + right
    broken, head = _LINE_END_HYPHEN.search(left), _WORD_HEAD.match(right)
    if broken is None or head is None:
        return f"{left} {right}"
    word = broken.group(1) + head.group()
    whole = word.lower() not in known and f"{broken.group(1)}-{head.group()}".lower() in known
    rejoin = not whole and (word.lower() in known or word.lower() in vocabulary())
    return left[:-1] + right if rejoin else left + right


def clean_code(text: str) -> str:
    """NFC and no trailing spaces; indentation and inner blank lines are kept."""
    text = _no_nul(unicodedata.normalize("NFC", text))
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def chunk_key_text(text: str) -> str:
    """The normalisation chunk identity is computed on: NFC, whitespace folded."""
    return " ".join(unicodedata.normalize("NFC", text).split())


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


_COMMON = [
    "cp1252",
    "iso8859_15",
    "latin_1",
    "cp1250",
    "cp1251",
    "iso8859_2",
    "shift_jis",
    "cp932",
    "euc_jp",
    "gb18030",
    "gb2312",
    "big5",
    "euc_kr",
    "cp949",
    "koi8_r",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
    "cp1257",
    "utf_16",
    "utf_32",
]


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text that starts without a byte-order mark: mostly-Latin text has a NUL in
    every other byte (odd bytes for little-endian, even ones for big-endian)."""
    head = data[:8192]
    if len(head) < 4 or len(data) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    for encoding, zeros, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros.count(0) >= 0.3 * len(zeros) and other.count(0) <= 0.02 * len(other):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            # Control characters other than white space mean it was binary after all.
            controls = sum(c < " " and c not in "\t\n\r\f" for c in text[:4096])
            return text if controls <= 0.01 * min(len(text), 4096) else None
    return None


def decode_text(data: bytes) -> str:
    """Decode a text file: BOM, then UTF-8, then a detected legacy encoding."""
    if not data.strip():
        raise ParseError("empty file")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ParseError(f"unreadable encoding ({encoding} with errors)") from exc
    if b"\x00" in data[:8192]:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise ParseError("binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(data))
    if not matches:
        raise ParseError("unreadable encoding (not UTF-8, no other encoding detected)")
    # On short texts the detector's ranking is close to a coin toss between code pages that
    # decode equally cleanly; among the cleanest, prefer the ones documents are really in.
    cleanest = min(m.chaos for m in matches)
    candidates = [m for m in matches if m.chaos <= cleanest + 0.01]
    candidates.sort(
        key=lambda m: _COMMON.index(m.encoding) if m.encoding in _COMMON else len(_COMMON)
    )
    return str(candidates[0])


class TextBuilder:
    """Lays blocks out one after another, separated by a blank line, recording their spans."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []

    def add(
        self,
        text: str,
        kind: BlockKind,
        section: tuple[str, ...] = (),
        *,
        page: int | None = None,
        lines: tuple[int, int] | None = None,
        verbatim: bool = False,
    ) -> None:
        text = clean_code(text) if verbatim else clean_prose(text)
        if not text:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        self.blocks.append(Block(kind, start, self._length, section, page, lines))

    def build(self, title: str, fmt: str, metadata: dict[str, Any] | None = None) -> ParsedDocument:
        if not self.blocks:
            raise ParseError("no text content")
        return ParsedDocument(
            "".join(self._parts), self.blocks, _no_nul(title), fmt, metadata or {}
        )


class Sections:
    """Heading breadcrumbs: ``push(level, title)`` returns the current section path."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def push(self, level: int, title: str) -> tuple[str, ...]:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))
        return self.path

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _, title in self._stack)


def stem(name: str) -> str:
    """A readable fallback title from a file name."""
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def blank_line_blocks(source: str) -> list[tuple[str, tuple[int, int]]]:
    """Split text at blank lines; each piece with its 1-based inclusive line range."""
    pieces: list[tuple[str, tuple[int, int]]] = []
    current: list[str] = []
    first = 0
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current:
            pieces.append(("\n".join(current), (first, number - 1)))
            current = []
    if current:
        pieces.append(("\n".join(current), (first, first + len(current) - 1)))
    return pieces
