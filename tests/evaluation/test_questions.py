"""Generated questions: cloze questions from the sample corpus, answered by the pipeline;
an LLM's questions are kept only when their answer is in the chunk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE, write
from verirag import KnowledgeBase
from verirag.cli import app
from verirag.evaluation.qa import evaluate, read_qa
from verirag.evaluation.questions import SCHEMA, asked, generate_questions


def test_cloze_questions_blank_a_quantity_and_name_their_source(kb: KnowledgeBase) -> None:
    kb.ingest(SAMPLE / "v1")
    made = generate_questions(kb, 50)
    assert 5 <= len(made) <= 50
    by_answer = {q.answer: q for q in made}
    leave = by_answer["25 days"]
    assert leave.doc_id == "employee-handbook.docx"
    assert "receive ____ of paid leave" in leave.question
    assert "Employee Handbook > Leave" in leave.question
    chunk = next(c for c in kb.chunks(leave.doc_id) if c.chunk_id == leave.chunk_id)
    assert "25 days" in chunk.text
    # No question twice, none blanking a list number or a line of code.
    assert len({q.question for q in made}) == len(made)
    assert not any(q.answer in ("1.", "1,") or "def " in q.question for q in made)


def test_generated_questions_feed_eval_qa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERIRAG_KB", str(tmp_path / "kb"))
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest(SAMPLE / "v1")
    path = tmp_path / "questions.jsonl"
    made = CliRunner().invoke(app, ["eval", "generate-questions", str(path), "-n", "8"])
    assert made.exit_code == 0, made.output
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 8 and all(r["source"]["chunk_id"] for r in rows)
    items = read_qa(path)
    with KnowledgeBase(tmp_path / "kb") as kb:
        run = evaluate(kb, items)
    # The blanked sentence is in the corpus: the pipeline finds most of them.
    assert run.summary["retrieval_recall"] >= 0.75
    assert run.summary["containment"] >= 0.5


class Replies:
    """A generator that replies with given JSON: what is under test is the filter on the
    model's reply, not the model (SmolLM2, the only one here, rarely writes valid JSON)."""

    model_id = "replies"
    context_tokens = 1000

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.asked: list[str] = []

    def generate(self, question, sources, *, schema=None, on_token=None):  # type: ignore[no-untyped-def]
        from verirag.generation import Generation

        self.asked.append(sources[0].text)
        assert schema == SCHEMA
        return Generation(self.replies.pop(0), self.model_id)


def test_llm_questions_are_kept_only_when_grounded(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "refund.md", "# Refunds\n\nItems can be returned within 30 days of delivery.\n")
    kb.ingest(docs)
    (chunk,) = kb.chunks("refund.md")
    grounded = Replies('{"question": "How long do I have to return an item?", "answer": "30 days"}')
    made = asked(chunk, "Refunds", grounded)
    assert made is not None and (made.answer, made.doc_id) == ("30 days", "refund.md")
    assert grounded.asked == [chunk.text]
    invented = Replies('{"question": "How long?", "answer": "60 days"}')
    assert asked(chunk, "Refunds", invented) is None
    assert asked(chunk, "Refunds", Replies("not json")) is None
