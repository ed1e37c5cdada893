"""Every supported format parses into blocks whose spans, sections, pages and lines are right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.builders import write_docx, write_pdf
from verirag.documents import BlockKind, ParsedDocument, parse, supported

HANDBOOK = """# Handbook

Intro paragraph that
wraps over two lines.

## Deploys

- Deploy before 16:00.
- Friday needs approval.

| Day | Allowed |
|-----|---------|
| Mon | yes |

```bash
make deploy
```

### Rollback

Run the rollback job.
"""


def texts(doc: ParsedDocument) -> list[str]:
    return [doc.text[b.start : b.end] for b in doc.blocks]


def assert_layout(doc: ParsedDocument) -> None:
    """Blocks are in order, do not overlap, and are separated by exactly one blank line."""
    for before, after in zip(doc.blocks, doc.blocks[1:], strict=False):
        assert doc.text[before.end : after.start] == "\n\n"
    assert doc.blocks[0].start == 0 and doc.blocks[-1].end == len(doc.text)


def test_markdown_blocks_sections_and_lines() -> None:
    doc = parse(HANDBOOK.encode(), "handbook.md")
    assert_layout(doc)
    assert doc.title == "Handbook" and doc.format == "markdown"
    kinds = [b.kind for b in doc.blocks]
    assert kinds == [
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
        BlockKind.HEADING,
        BlockKind.LIST_ITEM,
        BlockKind.LIST_ITEM,
        BlockKind.TABLE,
        BlockKind.CODE,
        BlockKind.HEADING,
        BlockKind.PARAGRAPH,
    ]
    by_text = dict(zip(texts(doc), doc.blocks, strict=True))
    assert "Intro paragraph that wraps over two lines." in by_text  # soft break joined
    assert by_text["Intro paragraph that wraps over two lines."].lines == (3, 4)
    assert by_text["- Deploy before 16:00."].section == ("Handbook", "Deploys")
    assert by_text["Day | Allowed\nMon | yes"].kind is BlockKind.TABLE
    assert by_text["make deploy"].lines == (15, 17)
    assert by_text["Run the rollback job."].section == ("Handbook", "Deploys", "Rollback")


def test_text_paragraphs_with_line_ranges() -> None:
    doc = parse(b"First para\nline two.\n\n\nSecond para.\n", "notes.txt")
    assert texts(doc) == ["First para line two.", "Second para."]  # a wrapped line joined
    assert [b.lines for b in doc.blocks] == [(1, 2), (5, 5)]
    assert doc.title == "notes"


def test_html_drops_texinfo_and_sphinx_navigation_and_permalinks() -> None:
    html = """<html><body><div class="section" id="The-Basics"><div class="header"><p>
    Next: <a href="Simple-Example.html" rel="next">Simple Example</a>, Up: <a href="u.html">Using
    libffi</a> &nbsp; [<a href="Index.html">Index</a>]</p></div><hr>
    <h3 class="section">2.1 The Basics</h3>
    <dl><dt><strong>ffi_status</strong> <em>ffi_prep_cif (ffi_cif *cif)</em><a href='#i'
    class='copiable-anchor'> &para;</a></dt><dd><p>This initializes cif.</p></dd></dl>
    <div class="related" role="navigation"><a href="next.html">next</a></div>
    <h2>Options<a class="headerlink" href="#options" title="Link to this heading">¶</a></h2>
    <p>See <a href="#fn">§</a> the footnote, and <a href="#x">the options</a>.</p>
    </div></body></html>""".encode()
    doc = parse(html, "The-Basics.html")
    assert "¶" not in doc.text and "Next:" not in doc.text and "next" not in doc.text
    assert texts(doc)[:2] == ["2.1 The Basics", "ffi_status ffi_prep_cif (ffi_cif *cif)"]
    assert doc.blocks[-1].section == ("Options",)  # an h2 after an h3 starts a new path
    assert texts(doc)[-1] == "See the footnote, and the options."


def test_html_headings_lists_tables_and_no_scripts() -> None:
    html = b"""<html><head><title>FAQ page</title><script>var x = 'secret';</script></head>
    <body><nav>Home | Shop</nav><h1>FAQ</h1><div>Loose <b>bold</b> text</div>
    <h2>Returns</h2><p>Within  30
    days.</p><ul><li>Keep the receipt</li></ul>
    <table><tr><th>Item</th><th>Days</th></tr><tr><td>Tent</td><td>60</td></tr></table>
    <pre>line 1
      indented</pre><style>p {}</style></body></html>"""
    doc = parse(html, "faq.html")
    assert_layout(doc)
    assert doc.title == "FAQ page"
    assert texts(doc) == [
        "FAQ",
        "Loose bold text",
        "Returns",
        "Within 30 days.",
        "- Keep the receipt",
        "Item | Days\nTent | 60",
        "line 1\n      indented",
    ]
    assert doc.blocks[3].section == ("FAQ", "Returns")
    assert "secret" not in doc.text and "Home" not in doc.text


def test_pdf_keeps_pages_and_outline_sections(tmp_path: Path) -> None:
    path = write_pdf(
        tmp_path / "p.pdf",
        [
            "# Refunds\n\nRefunds take 30 days.\n\n## Exceptions\n\nGift cards are final.\n",
            "# Shipping\n\nShipping takes 5 days.\n",
        ],
        "Policies",
    )
    doc = parse(path.read_bytes(), "p.pdf")
    assert_layout(doc)
    assert doc.title == "Policies" and doc.metadata["pages"] == 2
    by_text = dict(zip(texts(doc), doc.blocks, strict=True))
    assert by_text["Refunds take 30 days."].page == 1
    assert by_text["Gift cards are final."].section == ("Refunds", "Exceptions")
    assert by_text["Shipping takes 5 days."].page == 2
    assert by_text["Shipping takes 5 days."].section == ("Shipping",)


def test_docx_headings_lists_and_tables(tmp_path: Path) -> None:
    source = (
        "# Leave\n\nYou get 25 days.\n\n- Ask early.\n\n"
        "## Expenses\n\n| Kind | Limit |\n|---|---|\n| Meals | $60 |\n"
    )
    path = write_docx(tmp_path / "h.docx", source, "Handbook")
    doc = parse(path.read_bytes(), "h.docx")
    assert_layout(doc)
    assert doc.title == "Handbook"
    by_text = dict(zip(texts(doc), doc.blocks, strict=True))
    assert by_text["You get 25 days."].section == ("Leave",)
    assert by_text["- Ask early."].kind is BlockKind.LIST_ITEM
    assert by_text["Kind | Limit\nMeals | $60"].section == ("Leave", "Expenses")


def test_python_split_by_top_level_definitions() -> None:
    source = (
        '"""Module doc."""\nimport os\n\n\n# helper for paths\n@decorator\ndef build(x):\n'
        "    return x\n\n\nclass Tool:\n    def run(self):\n\n        return 1\n\n\nMAIN = 1\n"
    )
    doc = parse(source.encode(), "tools/build.py")
    sections = [b.section for b in doc.blocks]
    assert sections == [("module",), ("def build",), ("class Tool",), ("module",)]
    build = doc.blocks[1]
    assert doc.text[build.start : build.end].startswith("# helper for paths\n@decorator\ndef build")
    assert build.lines == (5, 8)
    tool = doc.blocks[2]
    assert doc.text[tool.start : tool.end] == "class Tool:\n    def run(self):\n\n        return 1"
    assert doc.metadata == {"language": "py"}


def test_python_with_syntax_error_falls_back_to_blank_line_blocks() -> None:
    doc = parse(b"def broken(:\n    pass\n\nx = 1\n", "bad.py")
    assert [b.lines for b in doc.blocks] == [(1, 2), (4, 4)]


def test_other_languages_by_blank_line_blocks() -> None:
    doc = parse(b"function a() {\n  return 1;\n}\n\nfunction b() {}\n", "app.js")
    assert texts(doc) == ["function a() {\n  return 1;\n}", "function b() {}"]
    assert doc.blocks[1].lines == (5, 5)


def test_csv_rows_carry_their_header() -> None:
    doc = parse(b"city,phone\nPortland,555-0111\n\nDenver,555-0122\n", "stores.csv")
    assert texts(doc) == ["city: Portland | phone: 555-0111", "city: Denver | phone: 555-0122"]
    assert [b.lines for b in doc.blocks] == [(2, 2), (4, 4)]
    assert all(b.kind is BlockKind.ROW for b in doc.blocks)


def test_json_and_jsonl_records() -> None:
    records = [
        {"id": "a1", "title": "Tent", "specs": {"weight": 2.1, "colors": ["red", "blue"]}},
        {"id": "a2", "title": "Stove"},
    ]
    doc = parse(json.dumps(records).encode(), "items.json")
    assert texts(doc)[0] == "id: a1\ntitle: Tent\nspecs.weight: 2.1\nspecs.colors: red, blue"
    assert doc.blocks[0].section == ("Tent",)
    lines = "\n".join(json.dumps(r) for r in records) + "\n"
    doc = parse(lines.encode(), "items.jsonl")
    assert [b.lines for b in doc.blocks] == [(1, 1), (2, 2)]
    assert doc.blocks[1].section == ("Stove",)


def test_legacy_encoding_is_detected() -> None:
    text = "Der Kunde erhält eine Rückerstattung für beschädigte Waren, schnell und unkompliziert."
    doc = parse(text.encode("cp1252"), "de.txt")
    assert doc.text == text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.md", True),
        ("A.PDF", True),
        ("x.docx", True),
        ("s.jsonl", True),
        ("img.png", False),
        ("Makefile", False),
        ("run.go", True),
    ],
)
def test_supported(name: str, expected: bool) -> None:
    assert supported(name) is expected
