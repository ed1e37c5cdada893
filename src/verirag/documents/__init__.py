"""Parsing: each format's parser turns bytes into blocks with locations.

A parser is any object with ``suffixes`` and ``parse(data, name)``; :func:`register` adds one.
"""

from __future__ import annotations

from verirag.documents._base import (
    Block,
    BlockKind,
    ParsedDocument,
    ParseError,
    Parser,
    chunk_key_text,
    stem,
)
from verirag.documents.code import CodeParser
from verirag.documents.docx import DocxParser
from verirag.documents.html import HTMLParser
from verirag.documents.man import ManParser, is_man_page
from verirag.documents.markdown import MarkdownParser
from verirag.documents.pdf import PDFParser
from verirag.documents.tabular import CSVParser, JSONParser
from verirag.documents.text import TextParser

__all__ = [
    "Block",
    "BlockKind",
    "ParseError",
    "ParsedDocument",
    "Parser",
    "chunk_key_text",
    "parse",
    "parser_for",
    "register",
    "stem",
    "supported",
]

_REGISTRY: dict[str, Parser] = {}


def register(parser: Parser) -> None:
    """Use ``parser`` for every suffix it declares (replacing any earlier one)."""
    for suffix in parser.suffixes:
        _REGISTRY[suffix.lower()] = parser


for _parser in (
    MarkdownParser(),
    TextParser(),
    HTMLParser(),
    PDFParser(),
    DocxParser(),
    CodeParser(),
    CSVParser(),
    JSONParser(),
):
    register(_parser)


def _suffix(name: str) -> str:
    base = name.rsplit("/", 1)[-1].lower()
    return "." + base.rsplit(".", 1)[-1] if "." in base else ""


_MAN = ManParser()


def supported(name: str) -> bool:
    return _suffix(name) in _REGISTRY or is_man_page(name)


def parser_for(name: str) -> Parser:
    if _suffix(name) not in _REGISTRY and is_man_page(name):
        return _MAN
    try:
        return _REGISTRY[_suffix(name)]
    except KeyError:
        raise ParseError(f"unsupported file type {_suffix(name) or '(no extension)'!r}") from None


def parse(data: bytes, name: str) -> ParsedDocument:
    """Parse one file's bytes; raises :class:`ParseError` with a one-line reason."""
    try:
        return parser_for(name).parse(data, name)
    except (ParseError, MemoryError):
        raise
    except RecursionError as exc:
        raise ParseError("document nested too deeply to parse") from exc
    except Exception as exc:  # a parser bug on odd input must not stop a batch
        raise ParseError(f"parser failed: {type(exc).__name__}: {exc}") from exc
