"""HTML through selectolax (Lexbor): headings, paragraphs, list items, tables, preformatted code."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from selectolax.lexbor import LexborHTMLParser

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    ParseError,
    Sections,
    TextBuilder,
    decode_text,
    stem,
)

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_TEXT_BLOCKS = {"p", "blockquote", "dt", "dd", "figcaption", "caption", "address", "summary"}
_INLINE = {
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "cite",
    "code",
    "data",
    "dfn",
    "em",
    "i",
    "kbd",
    "label",
    "mark",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
    "var",
    "wbr",
    "font",
    "del",
    "ins",
}
_DROPPED = "script, style, noscript, template, svg, nav, iframe, object"
# Navigation that generators write without <nav>: Texinfo's "Next: ..., Up: ..." header and
# Sphinx's "related" bar, and the permalink anchors beside headings and definitions.
_CHROME = (
    "[role=navigation], div.header, div.nav-panel, div.related, a.copiable-anchor, a.headerlink"
)
_PERMALINK_GLYPHS = {"¶", "#", "§", "🔗"}


def _collapse(text: str) -> str:
    """HTML white space: any run of it is one space (only <br> and <pre> break lines)."""
    return re.sub(r"\s+", " ", text)


class _Walker:
    def __init__(self) -> None:
        self.out = TextBuilder()
        self.sections = Sections()
        self.first_h1: str | None = None
        self._inline: list[str] = []

    def flush(self, kind: BlockKind = BlockKind.PARAGRAPH) -> None:
        text = "".join(self._inline)
        self._inline = []
        if text.strip() not in ("", "-"):
            self.out.add(text, kind, self.sections.path)

    def walk(self, node: Any) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self._inline.append(_collapse(child.text_content or ""))
            elif tag in _INLINE:
                self._inline.append(_collapse(child.text(deep=True)))
            elif tag == "br":
                self._inline.append("\n")
            elif tag in _HEADINGS:
                self.flush()
                text = " ".join(child.text(deep=True).split())
                if text:
                    path = self.sections.push(_HEADINGS[tag], text)
                    self.first_h1 = self.first_h1 or (text if tag == "h1" else None)
                    self.out.add(text, BlockKind.HEADING, path)
            elif tag == "pre":
                self.flush()
                self.out.add(
                    child.text(deep=True), BlockKind.CODE, self.sections.path, verbatim=True
                )
            elif tag == "table":
                self.flush()
                self._table(child)
            elif tag == "li":
                self.flush()
                self._inline.append("- ")
                self.walk(child)
                self.flush(BlockKind.LIST_ITEM)
            elif tag in _TEXT_BLOCKS:
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.flush()
                self.walk(child)
                self.flush()

    def _table(self, table: Any) -> None:
        rows = []
        for tr in table.css("tr"):
            cells = [" ".join(c.text(deep=True).split()) for c in tr.css("th, td")]
            if any(cells):
                rows.append(" | ".join(cells))
        self.out.add("\n".join(rows), BlockKind.TABLE, self.sections.path, verbatim=True)


MAX_DEPTH = 256
# Tags that never nest (void) or whose end tag may be left out: they do not count as depth.
_FLAT = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "dt",
        "dd",
        "tr",
        "td",
        "th",
        "option",
        "optgroup",
        "thead",
        "tbody",
        "tfoot",
        "colgroup",
        "caption",
        "rt",
        "rp",
        "html",
        "head",
        "body",
    ]
)
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")


def _check_depth(data: bytes) -> None:
    """Refuse HTML nested deeper than :data:`MAX_DEPTH` elements, counted by one linear
    scan of the tags before any tree is built: the tree builder and the walk grow faster
    than linearly with depth, and no page a person reads nests hundreds of levels."""
    depth = 0
    for match in _TAG.finditer(data):
        closing, tag, self_closing = match.groups()
        if self_closing or tag.lower().decode() in _FLAT:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        if depth > MAX_DEPTH:
            raise ParseError(f"HTML nested deeper than {MAX_DEPTH} elements")


class HTMLParser:
    suffixes: ClassVar[tuple[str, ...]] = (".html", ".htm", ".xhtml")

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        _check_depth(data)
        tree = LexborHTMLParser(decode_text(data))
        title_node = tree.css_first("title")
        title = " ".join(title_node.text().split()) if title_node else ""
        for node in tree.css(f"{_DROPPED}, {_CHROME}"):
            node.decompose()
        for link in tree.css("a[href^='#']"):
            if link.text().strip() in _PERMALINK_GLYPHS:
                link.decompose()
        walker = _Walker()
        walker.walk(tree.body if tree.body is not None else tree.root)
        walker.flush()
        return walker.out.build(title or walker.first_h1 or stem(name), "html")
