"""Search through the facade: freshness, as-of, access control inside the index, reconcile."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import write
from verirag import KnowledgeBase, Mode, SearchOptions
from verirag.chunking import Chunker
from verirag.documents import parse
from verirag.store import Catalog, NewVersion
from verirag.text import load_tokenizer

REFUND_V1 = "# Refund policy\n\nCustomers can return items within thirty days for a full refund.\n"
REFUND_V2 = "# Refund policy\n\nCustomers can return items within fourteen days for store credit.\n"
SHIPPING = "# Shipping\n\nParcels travel by courier and arrive in five business days.\n"
SALARIES = (
    "# Salary bands\n\nEngineers at level three earn between ninety and one hundred thousand.\n"
)


@pytest.fixture
def policies(kb: KnowledgeBase, docs: Path) -> KnowledgeBase:
    write(docs, "refund.md", REFUND_V1)
    write(docs, "shipping.md", SHIPPING)
    write(docs, "salaries.md", SALARIES)
    write(docs, "salaries.md.verirag.toml", 'access = ["hr"]\n[metadata]\nteam = "people"\n')
    kb.ingest(docs)
    return kb


def test_an_edited_document_is_found_by_its_new_text_immediately(
    policies: KnowledgeBase, docs: Path
) -> None:
    kb = policies
    assert kb.search("thirty days full refund", k=1)[0].doc_id == "refund.md"
    write(docs, "refund.md", REFUND_V2)
    kb.ingest(docs)  # no reopen, no wait: the next query sees version 2
    for mode in Mode:
        options = SearchOptions(mode=mode)
        new = kb.search("fourteen days store credit", k=3, options=options)
        assert (new[0].doc_id, new[0].version) == ("refund.md", 2), mode
        old = kb.search("thirty days full refund", k=3, options=options)
        assert all("thirty" not in r.text for r in old), mode
        assert all(r.version == 2 for r in old if r.doc_id == "refund.md"), mode


def test_as_of_sees_the_versions_valid_then(policies: KnowledgeBase, docs: Path) -> None:
    kb = policies
    before_edit = time.time()
    time.sleep(0.01)
    write(docs, "refund.md", REFUND_V2)
    kb.ingest(docs)
    then = kb.search("how many days to return an item", k=1, as_of=before_edit)[0]
    now = kb.search("how many days to return an item", k=1)[0]
    assert (then.doc_id, then.version, "thirty" in then.text) == ("refund.md", 1, True)
    assert (now.doc_id, now.version, "fourteen" in now.text) == ("refund.md", 2, True)
    (docs / "refund.md").unlink()
    kb.ingest(docs, sync=True)
    assert all(r.doc_id != "refund.md" for r in kb.search("return items refund", k=5))
    assert kb.search("return items refund", k=1, as_of=before_edit)[0].doc_id == "refund.md"
    assert kb.search("anything at all", k=5, as_of=0.0) == []  # before the first commit


def test_access_groups_are_enforced_inside_the_index(policies: KnowledgeBase) -> None:
    kb = policies
    query = "salary bands for engineers"
    for mode in Mode:
        options = SearchOptions(mode=mode, candidates=50)
        public = kb.search(query, k=10, groups=["public"], options=options)
        assert all(r.doc_id != "salaries.md" for r in public), mode
        assert public or mode is Mode.BM25  # no public document shares a word with the query
        # Every principal reads public documents too (verirag.access).
        hr = kb.search(query, k=10, groups=["hr"], options=options)
        assert hr[0].doc_id == "salaries.md", mode
        assert {r.doc_id for r in hr[1:]} <= {r.doc_id for r in public}, mode
    assert kb.index.count(kb.scope(groups=["public"])) == 2
    assert kb.index.count(kb.scope(groups=["hr"])) == 3
    assert kb.index.count(kb.scope(groups=[])) == 2
    nobody = kb.search(query, k=10, groups=["nobody"])
    assert "salaries.md" not in {r.doc_id for r in nobody}


def test_metadata_and_document_filters(policies: KnowledgeBase) -> None:
    kb = policies
    assert [r.doc_id for r in kb.search("days", k=5, metadata={"team": "people"})] == [
        "salaries.md"
    ]
    hits = kb.search("days", k=5, doc_ids=["shipping.md"])
    assert {r.doc_id for r in hits} == {"shipping.md"}


def test_results_carry_citations_and_stage_scores(policies: KnowledgeBase) -> None:
    result = policies.search("parcels courier delivery", k=1)[0]
    assert result.doc_id == "shipping.md" and result.title == "Shipping"
    assert result.section == ("Shipping",)
    assert result.text.startswith("Shipping\n\nParcels")
    assert (result.line_start, result.line_end) == (1, 3)
    assert policies.version("shipping.md").text[result.char_start : result.char_end] == result.text  # type: ignore[index]
    assert {"dense", "bm25", "fused"} <= result.scores.keys()
    assert result.ranks["fused"] == 1


def test_hybrid_scores_every_candidate_on_both_lists(policies: KnowledgeBase) -> None:
    query = "parcels courier delivery"
    # One candidate per list: the other list's candidate must still get its real score.
    retriever, scope = policies.retriever, policies.scope()
    results = retriever.search(query, scope, k=0, options=SearchOptions(candidates=1, rerank=False))
    assert 1 <= len(results) <= 2
    alone = {
        mode: {r.chunk_id: r.score for r in policies.search(query, k=10, options=options)}
        for mode, options in [
            ("dense", SearchOptions(mode=Mode.DENSE, rerank=False)),
            ("bm25", SearchOptions(mode=Mode.BM25, rerank=False)),
        ]
    }
    for result in results:
        assert result.scores["dense"] == pytest.approx(alone["dense"][result.chunk_id], abs=1e-6)
        assert result.scores["bm25"] == pytest.approx(alone["bm25"].get(result.chunk_id, 0.0))
    assert sum("dense" in r.ranks for r in results) == sum("bm25" in r.ranks for r in results) == 1
    assert results[0].score == pytest.approx(1.0)  # best on both lists once each is complete


def test_open_reconciles_an_index_that_missed_a_commit(tmp_path: Path, docs: Path) -> None:
    write(docs, "refund.md", REFUND_V1)
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest(docs)
        watermark = kb.index.watermark
    # A process that died after its catalog commit and before updating the index.
    catalog = Catalog.open(tmp_path / "kb" / "catalog.db")
    parsed = parse(REFUND_V2.encode(), "refund.md")
    chunks = Chunker(load_tokenizer()).chunk("refund.md", parsed)
    catalog.commit(
        NewVersion(
            "refund.md", "hash-v2", parsed.text, parsed.title, parsed.format, chunks, ["public"]
        )
    )
    catalog.close()
    with KnowledgeBase(tmp_path / "kb") as kb:
        assert kb.index.watermark > watermark
        top = kb.search("fourteen days store credit", k=1)[0]
        assert (top.doc_id, top.version) == ("refund.md", 2)


def test_reindex_rebuilds_from_the_catalog_without_embedding_again(policies: KnowledgeBase) -> None:
    kb = policies
    before = [(r.doc_id, r.version) for r in kb.search("refund days", k=3)]
    assert kb.reindex() == 0  # every vector came from the cache
    assert [(r.doc_id, r.version) for r in kb.search("refund days", k=3)] == before


def test_remove_takes_a_document_out_of_search(policies: KnowledgeBase) -> None:
    kb = policies
    kb.remove("shipping.md")
    assert all(r.doc_id != "shipping.md" for r in kb.search("parcels courier", k=5))


def test_empty_query_is_an_error(policies: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="empty query"):
        policies.search("   ")


def test_deferred_indexing_catches_up_on_the_next_search(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "shipping.md", SHIPPING)
    kb.ingest(docs)
    assert kb.search("parcels courier", k=1)[0].doc_id == "shipping.md"  # the index is open
    write(docs, "refund.md", REFUND_V1)
    kb.ingest(docs, index=False)
    assert kb.index.watermark < kb.catalog.last_seq()
    assert kb.search("thirty days full refund", k=1)[0].doc_id == "refund.md"


def test_tags_and_date_ranges_filter_inside_the_index(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "old.md", "# Old rule\n\nExpenses are approved by the team lead.\n")
    write(docs, "old.md.verirag.toml", '[metadata]\ntags = ["finance"]\neffective = 2024-01-01\n')
    write(docs, "new.md", "# New rule\n\nExpenses are approved by the finance office.\n")
    write(
        docs,
        "new.md.verirag.toml",
        '[metadata]\ntags = ["finance", "2026"]\neffective = 2026-03-01\n',
    )
    report = kb.ingest(docs)  # TOML dates are stored as ISO strings, not a crash
    assert not report.failed
    assert kb.version("new.md").metadata == {"tags": ["finance", "2026"], "effective": "2026-03-01"}
    since_2025 = kb.search(
        "who approves expenses", k=5, metadata={"effective": {"gte": "2025-01-01T00:00:00Z"}}
    )
    assert [r.doc_id for r in since_2025] == ["new.md"]
    tagged = kb.search("who approves expenses", k=5, metadata={"tags": "2026"})
    assert [r.doc_id for r in tagged] == ["new.md"]
    both = kb.search("who approves expenses", k=5, metadata={"tags": ["finance"]})
    assert {r.doc_id for r in both} == {"old.md", "new.md"}
    with pytest.raises(ValueError, match=r"a range on meta\.effective"):
        kb.search("expenses", metadata={"effective": {"after": "2025"}})
