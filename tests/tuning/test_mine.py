"""Mining training groups from a knowledge base with the hybrid retriever."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write
from verirag import KnowledgeBase
from verirag.tuning.reranker import mine_groups


def test_positives_from_judged_documents_and_one_negative_per_other_document(
    kb: KnowledgeBase, docs: Path
) -> None:
    for i in range(4):  # two chunks per document, both about the query
        write(
            docs,
            f"d{i}.md",
            f"# Doc {i}\n\n## A\n\nFever remedy number {i}.\n\n## B\n\nFever remedy, number {i}.\n",
        )
    kb.ingest(docs)
    qrels = {"q": {"d3.md": 1}}
    group = mine_groups(kb, {"q": "fever remedy"}, qrels, negatives=3, depth=10)[0]
    assert "number 3." in group.positive
    numbers = sorted(n.rsplit("number ", 1)[1] for n in group.negatives)
    assert numbers == ["0.", "1.", "2."]  # each other document once
    # Three other documents cannot give four distinct negatives: no group, no duplicates.
    assert mine_groups(kb, {"q": "fever remedy"}, qrels, negatives=4, depth=10) == []
