"""One contract, two implementations: the embedded index (Qdrant Edge) and a Qdrant collection
through qdrant-client (its local mode here: the server cannot be installed on these machines;
the client code is the one a real server gets). Each test runs against both."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from verirag import Config, KnowledgeBase, TextRecord
from verirag.index import OPEN, Index, IndexPoint, Scope, open_index

DIM = 8
Open = Callable[..., Index]


@pytest.fixture(params=["edge", "qdrant"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where an index lives: a directory, or a qdrant-client collection URL."""
    if request.param == "edge":
        return str(tmp_path / "ix")
    return f"qdrant+local:{tmp_path / 'qdrant'}"


@pytest.fixture
def open_ix(where: str) -> Open:
    def opened(model_id: str = "test", *, quantization: bool = True) -> Index:
        return open_index(where, DIM, model_id, quantization=quantization)

    return opened


def vec(*hot: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[list(hot)] = 1.0
    return v


def point(
    doc: str,
    version: int,
    ordinal: int,
    text: str,
    valid_from: int,
    valid_to: int = OPEN,
    access: tuple[str, ...] = ("public",),
    **metadata: object,
) -> IndexPoint:
    return IndexPoint(
        doc,
        version,
        f"{doc}:v{version}c{ordinal}",
        ordinal,
        text,
        vec(ordinal % DIM),
        valid_from,
        valid_to,
        list(access),
        dict(metadata),
    )


WORDS = ["refunds", "exchanges"]


def test_no_query_sees_a_mix_of_two_versions(open_ix: Open) -> None:
    index = open_ix()
    index.upsert([point("p.md", 1, i, f"{w} thirty days", 1) for i, w in enumerate(WORDS)])
    index.set_watermark(1)
    index.upsert([point("p.md", 2, i, f"{w} fourteen days", 2) for i, w in enumerate(WORDS)])
    index.close_version("p.md", 1, 2)
    live = Scope(index.watermark)
    assert {h.version for h in index.text("days", 10, live)} == {1}
    assert {h.version for h in index.dense(vec(0, 1), 10, live)} == {1}
    index.set_watermark(2)
    assert {h.version for h in index.text("days", 10, Scope(index.watermark))} == {2}
    assert {h.version for h in index.dense(vec(0, 1), 10, Scope(2))} == {2}
    assert {h.version for h in index.text("days", 10, Scope(1))} == {1}  # as of commit 1
    index.close()

    reopened = open_ix()
    assert reopened.watermark == 2
    assert reopened.count(Scope(2)) == 2 and reopened.count(Scope(1)) == 2
    reopened.close()


def test_another_model_requires_reindex(open_ix: Open) -> None:
    open_ix("a").close()
    with pytest.raises(ValueError, match="verirag reindex"):
        open_ix("b")


def test_access_is_the_versions_and_the_documents(open_ix: Open) -> None:
    index = open_ix()
    index.upsert(
        [
            point("open.md", 1, 0, "holiday policy", 1),
            point("hr.md", 1, 1, "holiday policy for staff", 2, access=("hr",)),
        ]
    )
    index.set_watermark(2)
    assert {h.doc_id for h in index.text("holiday", 10, Scope(2, groups=["public"]))} == {"open.md"}
    assert index.count(Scope(2, groups=["public", "hr"])) == 2
    assert index.count(Scope(2, groups=[])) == 0
    assert index.count(Scope(2)) == 2  # unrestricted: the local owner
    index.relabel("open.md", ["legal"])  # restricting a document restricts its versions
    assert index.dense(vec(0), 10, Scope(2, groups=["public"])) == []
    assert {h.doc_id for h in index.dense(vec(0), 10, Scope(2, groups=["public", "legal"]))} == {
        "open.md"
    }
    index.close()


def test_narrowing_by_document_point_and_metadata(open_ix: Open) -> None:
    index = open_ix()
    index.upsert(
        [
            point("a.md", 1, 0, "alpha report", 1, tags=["finance"], year=2024),
            point("b.md", 1, 1, "beta report", 1, tags=["legal"], year=2025),
            point("c.md", 1, 2, "gamma report", 1, effective="2026-01-15T00:00:00Z", year=2026),
        ]
    )
    index.set_watermark(1)

    def docs(**narrow: object) -> set[str]:
        return {h.doc_id for h in index.text("report", 10, Scope(1, **narrow))}  # type: ignore[arg-type]

    assert docs(doc_ids=["a.md", "c.md"]) == {"a.md", "c.md"}
    assert docs(doc_ids=[]) == set()
    assert docs(points=[("b.md", 1, "b.md:v1c1")]) == {"b.md"}
    assert docs(metadata={"tags": "legal"}) == {"b.md"}
    assert docs(metadata={"tags": ["legal", "finance"]}) == {"a.md", "b.md"}
    assert docs(metadata={"year": {"gte": 2025}}) == {"b.md", "c.md"}
    assert docs(metadata={"effective": {"gte": "2026-01-01T00:00:00Z"}}) == {"c.md"}
    index.close()


def test_compaction_deletes_what_closed_at_or_before_the_horizon(open_ix: Open) -> None:
    index = open_ix()
    index.upsert([point("a.md", 1, 0, "one", 1, valid_to=2), point("a.md", 2, 0, "two", 2)])
    index.set_watermark(2)
    assert index.count(Scope(1)) == 1
    assert index.compact(2) == 1 and index.horizon == 2
    assert index.compact(2) == 0  # done once
    assert index.count(Scope(1)) == 0 and index.count(Scope(2)) == 1
    index.close()
    reopened = open_ix()
    assert reopened.horizon == 2
    reopened.close()


def test_bm25_weighs_rare_terms_and_repeated_query_terms(open_ix: Open) -> None:
    index = open_ix()
    common = [point(f"filler{i}.md", 1, i, "the policy applies to everyone", 1) for i in range(6)]
    index.upsert(
        [
            *common,
            point("rare.md", 1, 6, "policy about sabbatical leave", 1),
            point("often.md", 1, 7, "staff staff staff policy", 1),
            point("once.md", 1, 8, "staff policy notes", 1),
        ]
    )
    index.set_watermark(1)

    def ranked(query: str) -> list[str]:
        return [h.doc_id for h in index.text(query, 9, Scope(1))]

    assert ranked("sabbatical policy")[0] == "rare.md"  # a rare term outweighs a common one
    assert ranked("staff")[:2] == ["often.md", "once.md"]  # term frequency counts
    # A term the query says more often weighs more.
    assert ranked("staff staff staff sabbatical")[0] == "often.md"
    assert ranked("staff sabbatical sabbatical sabbatical")[0] == "rare.md"
    assert ranked("words nobody wrote") == []
    index.close()


def test_dense_exact_and_quantised_agree_on_the_top(open_ix: Open) -> None:
    rng = np.random.default_rng(7)
    index = open_ix(quantization=True)
    vectors = rng.normal(size=(200, DIM)).astype(np.float32)
    index.upsert(
        [
            IndexPoint("d.md", 1, f"c{i}", i, f"chunk {i}", v, 1, OPEN, ["public"])
            for i, v in enumerate(vectors)
        ]
    )
    index.set_watermark(1)
    index.optimize()
    for q in rng.normal(size=(5, DIM)).astype(np.float32):
        exact = [h.chunk_id for h in index.dense(q, 5, Scope(1), exact=True)]
        approx = [h.chunk_id for h in index.dense(q, 5, Scope(1))]
        assert exact[0] == approx[0] and len(set(exact) & set(approx)) >= 4
    index.close()


def test_a_knowledge_base_answers_alike_on_both_indexes(tmp_path: Path) -> None:
    """The same documents and vectors through each index: the same top results."""
    records = [
        TextRecord("refunds.md", "# Refunds\n\nRefunds are accepted within 30 days.\n"),
        TextRecord("shipping.md", "# Shipping\n\nParcels ship within two working days.\n"),
        TextRecord("security.md", "# Security\n\nPasswords rotate every 90 days.\n", access=["it"]),
    ]
    found = []
    for name, index in [("edge", None), ("qdrant", f"qdrant+local:{tmp_path / 'q'}")]:
        with KnowledgeBase(tmp_path / name, config=Config(index=index)) as kb:
            kb.ingest_texts(records)
            kb.ingest_texts([TextRecord("refunds.md", "# Refunds\n\nWithin 14 days.\n")])
            found.append(
                [
                    [(h.doc_id, h.version) for h in kb.search(q, k=2, groups=["public"])]
                    for q in ("how long to return an item", "delivery time", "password rotation")
                ]
            )
            assert "14 days" in kb.ask("Within how many days are refunds accepted?").text
    assert found[0] == found[1]
    assert found[0][0][0] == ("refunds.md", 2)
