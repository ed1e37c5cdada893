"""BM25 on a real Qdrant Edge shard weighs a query term by how often the query says it, as
Lucene and bm25s do: a paragraph used as a query is about the terms it repeats."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write
from verirag import KnowledgeBase, SearchOptions
from verirag.index.qdrant_edge import QUERY_TF_CAP, query_layers
from verirag.retrieval import Mode

BM25 = SearchOptions(mode=Mode.BM25, rerank=False)


def test_query_layers_repeat_what_the_query_repeats() -> None:
    assert query_layers("vitamin D and cancer") == ["vitamin D and cancer"]
    assert query_layers("Vitamins, vitamin D and the cancers; cancer and vitamin") == [
        "Vitamins, vitamin D and the cancers; cancer and vitamin",
        "vitamins cancers",  # said 3 and 2 times (stemmed: vitamin, cancer)
        "vitamins",
    ]
    assert len(query_layers("pump " * 50)) == QUERY_TF_CAP


def test_a_term_said_more_often_weighs_more(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "pumps.txt", "The pump moves water through the cooling loop.\n")
    write(docs, "valves.txt", "The valve stops water in the cooling loop.\n")
    kb.ingest(docs)

    def first(query: str) -> str:
        return kb.search(query, k=2, options=BM25)[0].doc_id

    # Said once each, the two terms tie as far as the query goes; said three times, the pump
    # is what the paragraph is about (before, the engine counted each term once).
    assert first("pump pump pump valve") == "pumps.txt"
    assert first("valve valve valve pump") == "valves.txt"
