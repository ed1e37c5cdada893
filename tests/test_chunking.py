"""Chunks fit the embedder's token budget, follow structure, and keep their ids across edits."""

from __future__ import annotations

import itertools

import pytest

from verirag.chunking import Chunker
from verirag.documents import parse
from verirag.text import SPECIAL_TOKENS, load_tokenizer, sentence_spans

TOKENIZER = load_tokenizer()


def long_paragraph(n: int, word: str = "refund") -> str:
    return " ".join(
        f"Sentence {i} explains the {word} rule for case {i} in some detail." for i in range(n)
    )


def chunk_markdown(markdown: str, max_tokens: int = 64, overlap: int = 16, doc_id: str = "d.md"):  # type: ignore[no-untyped-def]
    doc = parse(markdown.encode(), doc_id)
    return doc, Chunker(TOKENIZER, max_tokens, overlap).chunk(doc_id, doc)


def test_tokenizer_is_minilm_without_truncation() -> None:
    # The shipped tokenizer.json truncates at 128; counting must not.
    assert TOKENIZER.count(["word " * 300]) == [300]
    assert TOKENIZER.count(["refunds"]) == [2]  # 'ref', '##unds': WordPiece, not whitespace


def test_every_chunk_fits_the_budget_with_its_context() -> None:
    shipping = long_paragraph(12, "shipping")
    markdown = f"# Policy\n\n## Refunds\n\n{long_paragraph(30)}\n\n## Shipping\n\n{shipping}\n"
    doc, chunks = chunk_markdown(markdown)
    assert len(chunks) > 4
    for chunk in chunks:
        embedded = (
            TOKENIZER.count([chunk.context])[0] + TOKENIZER.count([chunk.text])[0] + SPECIAL_TOKENS
        )
        assert embedded <= 64
        assert chunk.text == doc.text[chunk.start : chunk.end]


def test_chunks_never_cross_sections_and_carry_breadcrumbs() -> None:
    markdown = "# Policy\n\n## Refunds\n\nThirty days.\n\n## Shipping\n\nFive days.\n"
    _, chunks = chunk_markdown(markdown, max_tokens=256)
    assert [c.text for c in chunks] == ["Refunds\n\nThirty days.", "Shipping\n\nFive days."]
    assert [c.context for c in chunks] == ["Policy > Refunds", "Policy > Shipping"]
    assert [c.section for c in chunks] == [("Policy", "Refunds"), ("Policy", "Shipping")]
    assert [c.line_start for c in chunks] == [3, 7]


def test_small_blocks_are_packed_and_long_ones_split_at_sentences_with_overlap() -> None:
    markdown = f"# T\n\nShort one.\n\nShort two.\n\n{long_paragraph(12)}\n"
    _doc, chunks = chunk_markdown(markdown, max_tokens=64, overlap=20)
    assert chunks[0].text.startswith("T\n\nShort one.\n\nShort two.")
    pieces = [c for c in chunks if "Sentence" in c.text]
    for piece in pieces:
        assert piece.text.rstrip().endswith("detail."), "split at a sentence boundary"
    # Consecutive pieces of the split paragraph share their boundary sentence.
    shared = [a.end > b.start for a, b in itertools.pairwise(pieces)]
    assert any(shared)


def test_a_table_or_code_block_that_fits_stays_whole() -> None:
    table = "| a | b |\n|---|---|\n" + "".join(f"| r{i} | v{i} |\n" for i in range(5))
    code = "```python\ndef f():\n    return 1\n```\n"
    _doc, chunks = chunk_markdown(f"# T\n\n{table}\n{code}", max_tokens=256)
    assert len(chunks) == 1
    assert "r0 | v0" in chunks[0].text and "return 1" in chunks[0].text


def test_oversized_code_is_split_by_lines() -> None:
    body = "\n".join(f"    total += compute_value_{i}(x)" for i in range(60))
    _doc, chunks = chunk_markdown(f"# T\n\n```python\ndef f(x):\n{body}\n```\n", max_tokens=64)
    assert len(chunks) > 2
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert all(line.startswith(("def f", "    total", "T")) or not line for line in lines)


def test_a_sentence_longer_than_the_budget_is_cut_at_token_boundaries() -> None:
    words = " ".join(f"w{i}" for i in range(400))
    _doc, chunks = chunk_markdown(f"# T\n\n{words}\n", max_tokens=64, overlap=0)
    assert len(chunks) >= 6
    rebuilt = " ".join(c.text for c in chunks).split()
    assert rebuilt[0] == "T" and rebuilt[1:] == words.split()


def test_chunk_ids_survive_an_edit_elsewhere_in_the_document() -> None:
    before = "# P\n\n## A\n\nAlpha text.\n\n## B\n\nBeta text.\n\n## C\n\nGamma text.\n"
    after = before.replace("Beta text.", "Beta text, now changed.")
    _, old = chunk_markdown(before, doc_id="p.md")
    _, new = chunk_markdown(after, doc_id="p.md")
    old_ids, new_ids = [c.id for c in old], [c.id for c in new]
    assert old_ids[0] == new_ids[0] and old_ids[2] == new_ids[2]
    assert old_ids[1] != new_ids[1]
    # Same text in another document is another chunk.
    _, other = chunk_markdown(before, doc_id="q.md")
    assert {c.id for c in other}.isdisjoint(old_ids)
    # Whitespace-only reflow keeps the id.
    _, reflowed = chunk_markdown(before.replace("Alpha text.", "Alpha\ntext."), doc_id="p.md")
    assert reflowed[0].id == old_ids[0]


def test_sentence_splitter_skips_abbreviations() -> None:
    text = "Ask Dr. Smith, e.g. by phone. Then wait 3.5 days! Done? Yes."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Ask Dr. Smith, e.g. by phone.",
        "Then wait 3.5 days!",
        "Done?",
        "Yes.",
    ]


def test_budget_and_overlap_are_validated() -> None:
    with pytest.raises(ValueError):
        Chunker(TOKENIZER, max_tokens=8)
    with pytest.raises(ValueError):
        Chunker(TOKENIZER, max_tokens=64, overlap=40)
