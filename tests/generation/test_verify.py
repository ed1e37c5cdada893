"""Citation checking and context assembly on hand-made sources (the real embedder)."""

from __future__ import annotations

import pytest

from verirag.embedding import load_embedder
from verirag.generation import Source, assemble, check, split_answer
from verirag.retrieval import SearchResult
from verirag.text import replaced

REFUND = (
    "Customers can return unused items within thirty days of delivery for a full refund. "
    "Refunds reach the original payment method within five business days."
)
SHIPPING = "Parcels travel by courier and usually arrive within 3 business days."


def source(n: int, doc_id: str, text: str) -> Source:
    return Source(
        n, doc_id, 1, doc_id.title(), (), text, 0, len(text), None, None, ("c",), 1.0, 0.0
    )


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    return load_embedder("minilm")


def test_split_answer_keeps_markers_with_their_sentence() -> None:
    assert split_answer("Items go back within 30 days [1]. Refunds take 5 days. [1][2] Done.") == [
        "Items go back within 30 days [1].",
        "Refunds take 5 days. [1][2]",
        "Done.",
    ]
    assert split_answer("Daniil Medvedev won the U.S. Open in 2021 [4]. J. Smith lost.") == [
        "Daniil Medvedev won the U.S. Open in 2021 [4].",
        "J. Smith lost.",
    ]


def test_a_planted_unsupported_sentence_is_flagged(embedder) -> None:  # type: ignore[no-untyped-def]
    sources = [source(1, "refund", REFUND), source(2, "shipping", SHIPPING)]
    answer = (
        "Unused items can be returned within thirty days of delivery [1]. "
        "Parcels usually arrive within 3 business days [2]. "
        "Refunds are also paid in cash at any store [1]. "
        "Parcels arrive within 7 business days [2]. "
        "Returns are free [4]. "
        "Customers love the refund policy. "
        "Parcels travel by courier from Rotterdam and usually arrive within 3 business days [2]."
    )
    claims = check(answer, sources, embedder)
    assert [c.supported for c in claims] == [True, True, False, False, False, False, False]
    assert claims[6].reason == "Rotterdam is not in the cited source"
    assert claims[2].reason == "the cited source does not say this"
    assert claims[3].reason == "7 is not in the cited source"
    assert claims[4].reason == "cites [4], which no source has"
    assert claims[5].reason == "no citation"
    assert claims[0].cited == (1,) and claims[0].words >= 0.7


def test_what_the_question_said_is_premise_not_claim(embedder) -> None:  # type: ignore[no-untyped-def]
    medals = "Norway topped the medal table with 39 medals, ahead of Germany."
    sources = [source(1, "games", medals), source(2, "refund", REFUND)]
    question = "Which country won the most medals at the 2018 Winter Olympics?"
    answer = "Norway won the most medals at the 2018 Winter Olympics, 39 in all [1]."
    assert not check(answer, sources, embedder)[0].supported  # the year is not in [1]
    assert check(answer, sources, embedder, question=question)[0].supported
    # What the answer adds is still checked: another figure is flagged.
    wrong = "Norway won the most medals at the 2018 Winter Olympics, 41 in all [1]."
    claim = check(wrong, sources, embedder, question=question)[0]
    assert claim.reason == "41 is not in the cited source"
    # A sentence that only affirms the question's premise must find all of it in the source.
    asked = "Can customers return items within 14 days?"
    yes = check("Customers can return items within 14 days [2].", sources, embedder, question=asked)
    assert yes[0].reason == "14 is not in the cited source"


def test_a_name_written_without_its_accents_is_the_same_name(embedder) -> None:  # type: ignore[no-untyped-def]
    final = "Ashleigh Barty beat Karolína Plíšková 6-3, 6-7, 6-3 in the Wimbledon final."
    sources = [source(1, "wimbledon", final)]
    plain = check("Barty beat Karolina Pliskova in the final [1].", sources, embedder)[0]
    assert plain.supported, plain.reason
    other = check("Barty beat Karolina Muchova in the final [1].", sources, embedder)[0]
    assert other.reason == "Muchova is not in the cited source"


def result(doc_id: str, start: int, text: str, score: float) -> SearchResult:
    return SearchResult(
        doc_id,
        1,
        doc_id,
        ("Top",),
        text,
        doc_id,
        f"{doc_id}-{start}",
        start,
        start + len(text),
        None,
        None,
        None,
        None,
        0.0,
        score,
    )


def test_assembly_merges_adjacent_chunks_orders_by_relevance_and_fits_the_budget() -> None:
    whole = "Alpha one. Beta two. Gamma three."
    results = [
        result("b", 0, "Other doc.", 0.9),
        result("a", 11, whole[11:20], 0.8),  # "Beta two."
        result("a", 0, whole[0:10], 0.5),  # "Alpha one." touches the chunk above
        result("a", 0, whole[0:10], 0.5),  # a duplicate
        result("c", 0, "word " * 50, 0.4),
    ]
    sources = assemble(results, budget_tokens=40, count_tokens=lambda t: len(t.split()))
    assert [(s.n, s.doc_id, s.text) for s in sources] == [
        (1, "b", "Other doc."),
        (2, "a", "Alpha one.\nBeta two."),
    ]
    assert sources[1].chunk_ids == ("a-0", "a-11") and sources[1].score == 0.8


def test_extractive_skips_sentences_that_only_repeat_the_question(embedder) -> None:  # type: ignore[no-untyped-def]
    from verirag.generation.extractive import ExtractiveGenerator

    text = (
        "The 92nd Academy Awards. Joaquin Phoenix wins Best Actor for Joker. "
        "The ceremony was held in Los Angeles."
    )
    ranked = ExtractiveGenerator(embedder).rank(
        "Who won Best Actor at the 92nd Academy Awards?", [source(1, "oscars", text)]
    )
    assert ranked[0].text == "Joaquin Phoenix wins Best Actor for Joker."
    assert "The 92nd Academy Awards." not in [s.text for s in ranked]


def test_replaced_pairs_rewritten_sentences_and_leaves_out_pure_additions() -> None:
    old = "Returns take 30 days. Shipping is free. Call us on weekdays."
    new = "Returns take 14 days. Shipping is free. Call us on weekdays. We also ship abroad."
    assert replaced(old, new) == [("Returns take 30 days.", "Returns take 14 days.")]
    assert replaced(old, old) == []
    assert replaced(old, "Shipping is free. Call us on weekdays.") == []  # only removed
