"""Mining training groups from a knowledge base with the hybrid retriever."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_sentence_groups_take_the_answer_sentence_as_positive(
    kb: KnowledgeBase, docs: Path
) -> None:
    from verirag.evaluation.qa import QA
    from verirag.tuning.sentences import mine_sentence_groups

    write(
        docs,
        "leave.md",
        "# Leave\n\nStaff get twenty-seven days of paid leave. Leave requests go to the manager."
        " Unused leave expires in March. Sick leave needs a note after three days."
        " Parental leave lasts sixteen weeks. Leave is booked in the HR portal.\n",
    )
    kb.ingest(docs)
    pairs = [
        QA("How much paid leave do staff get?", ("twenty-seven days",)),
        QA("Who approves leave?", ("the CEO",)),  # no retrieved sentence holds it: no group
    ]
    groups = list(mine_sentence_groups(kb, pairs, negatives=4))
    assert len(groups) == 1
    assert groups[0].positive == "Staff get twenty-seven days of paid leave."
    assert len(set(groups[0].negatives)) == 4
    assert not any("twenty-seven" in n for n in groups[0].negatives)
    # More negatives than the sources hold sentences without the answer: no group.
    assert list(mine_sentence_groups(kb, pairs, negatives=6)) == []


def test_read_qa(tmp_path: Path) -> None:
    from verirag.evaluation.qa import QA, read_qa

    path = tmp_path / "qa.jsonl"
    path.write_text(
        '{"question": "q", "answers": ["a", "b"], "metadata": {"site": "x"}}\n\n'
        '{"question": "r", "answers": []}\n'
    )
    assert read_qa(path) == [QA("q", ("a", "b"), {"site": "x"}), QA("r", ())]
    path.write_text('{"question": "q", "answers": "a"}\n')
    with pytest.raises(ValueError, match=r"qa\.jsonl:1"):
        read_qa(path)
