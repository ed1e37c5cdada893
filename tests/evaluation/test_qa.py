"""QA evaluation: each metric against hand-computed values, then a run end to end on the
sample corpus (stored, and through the command line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE
from verirag import Answer, KnowledgeBase, Source
from verirag.cli import app
from verirag.evaluation.qa import (
    QA,
    contains,
    evaluate,
    exact_match,
    normalize,
    read_qa,
    score,
    summarize,
    token_f1,
)
from verirag.generation import Claim


def test_normalisation_and_answer_metrics() -> None:
    assert normalize("The  30-Day window!") == "30day window"
    assert exact_match("the 30 days.", ["30 days"]) == 1.0
    assert exact_match("within 30 days", ["30 days"]) == 0.0
    # "30 days window" vs "30 days": 2 tokens in common, P = 2/3, R = 1, F1 = 0.8.
    assert token_f1("30 days window", ["30 days"]) == pytest.approx(0.8)
    # The best gold counts: "14 days" shares 1 of 2 tokens with "30 days" (F1 0.5).
    assert token_f1("30 days", ["14 days", "thirty"]) == pytest.approx(0.5)
    assert token_f1("nothing here", ["30 days"]) == 0.0
    assert contains("You may return it within 30 days.", ["30 DAYS"]) == 1.0
    assert contains("within 14 days", ["30 days"]) == 0.0


def _source(n: int, doc: str) -> Source:
    return Source(n, doc, 1, None, (), "text", 0, 4, None, None, (f"c{n}",), 1.0, 0.0)


def _answer(text: str, cited: list[int], sources: list[Source], abstained: bool = False) -> Answer:
    claims = [Claim(text, tuple(cited), True, 1.0, 1.0)] if cited else []
    return Answer("id", "q", text, abstained, sources, claims, tokens_in=100, tokens_out=20)


def test_score_citations_and_recall() -> None:
    sources = [_source(1, "a"), _source(2, "b"), _source(3, "c")]
    item = QA("q", ("30 days",), gold_docs=("a", "d"))
    scored = score(item, _answer("Returns within 30 days. [1][2]", [1, 2], sources), 0.5)
    assert (scored.exact, scored.contained) == (0.0, 1.0)
    assert scored.recall == 0.5  # a retrieved, d not
    assert scored.citation_precision == 0.5  # a of a, b
    assert scored.citation_recall == 0.5  # a of a, d
    # An abstention answers nothing and cites nothing.
    silent = score(item, _answer("The documents don't say.", [], sources, True), 0.1)
    assert (silent.contained, silent.citation_precision, silent.citation_recall) == (0.0, None, 0.0)


def test_summary_abstention_precision_and_recall() -> None:
    sources = [_source(1, "a")]
    answered = _answer("It is 30 days. [1]", [1], sources)
    abstained = _answer("The documents don't say.", [], sources, True)
    runs = [
        score(QA("q1", ("30 days",)), answered, 0.1),  # right
        score(QA("q2", ("14 days",)), abstained, 0.2),  # abstained on an answerable one
        score(QA("q3", (), unanswerable=True), abstained, 0.3),  # right to abstain
        score(QA("q4", (), unanswerable=True), answered, 0.4),  # answered the unanswerable
    ]
    summary = summarize(runs)
    assert summary["containment"] == 0.5  # over the two answerable questions
    assert summary["abstention_rate"] == 0.5
    assert summary["abstention_precision"] == 0.5  # 1 of 2 abstentions was unanswerable
    assert summary["abstention_recall"] == 0.5  # 1 of 2 unanswerable abstained
    assert summary["latency_p50_ms"] == pytest.approx(250)
    assert summary["tokens_per_question"] == 120
    assert summary["citation_precision"] is None  # no gold documents given


def test_read_qa_reports_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "q", "answers": ["a"], "gold_docs": ["d"]}\n\n{"question": 1}\n')
    with pytest.raises(ValueError, match=r"qa.jsonl:3"):
        read_qa(path)
    path.write_text('{"question": "q", "unanswerable": true}\n')
    assert read_qa(path) == [QA("q", (), None, (), True)]


QUESTIONS = [
    {
        "question": "How many days do I have to return an item?",
        "answers": ["30 days"],
        "gold_docs": ["refund-policy.md"],
    },
    {"question": "Who won the 1998 football world cup?", "unanswerable": True},
]


def test_evaluate_qa_on_the_sample_corpus(kb: KnowledgeBase) -> None:
    kb.ingest(SAMPLE / "v1")
    items = [
        QA("How many days do I have to return an item?", ("30 days",), None, ("refund-policy.md",)),
        QA("Who won the 1998 football world cup?", (), unanswerable=True),
    ]
    run = evaluate(kb, items, k=8)
    run_id = kb.eval_runs.add(run)
    assert run.summary["containment"] == 1.0
    assert run.summary["retrieval_recall"] == 1.0
    assert run.summary["citation_recall"] == 1.0
    assert run.summary["abstention_recall"] == 1.0 and run.summary["abstention_precision"] == 1.0
    stored = kb.eval_runs.get(run_id)
    assert stored.summary == run.summary
    assert [q["question"] for q in stored.questions] == [q["question"] for q in QUESTIONS]


def test_eval_qa_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERIRAG_KB", str(tmp_path / "kb"))
    monkeypatch.setenv("COLUMNS", "200")
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest(SAMPLE / "v1")
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "qa",
            str(path),
            "--ablation",
            "--json",
            str(tmp_path / "r.json"),
            "--html",
            str(tmp_path / "r.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "containment" in result.output and "naive" in result.output
    written = json.loads((tmp_path / "r.json").read_text())
    assert written["full"]["summary"]["questions"] == 2
    assert written["full"]["summary"]["containment"] == 1.0
    assert written["naive"]["settings"]["pipeline"] == "naive"
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    failed = CliRunner().invoke(app, ["eval", "qa", str(bad)])
    assert failed.exit_code == 2 and "bad.jsonl:1" in failed.output


def test_recall_curve_by_hand() -> None:
    from verirag.evaluation.qa import recall_curve

    sources = [_source(1, "a"), _source(2, "b"), _source(3, "c")]
    first = score(QA("q", ("x",), gold_docs=("b",)), _answer("x [1]", [1], sources), 0.1)
    second = score(QA("q", ("x",), gold_docs=("a", "z")), _answer("x [1]", [1], sources), 0.1)
    assert (first.gold_ranks, second.gold_ranks) == ([2], [1, None])
    # k=1: (0 + 1/2) / 2; k=2 and 3: (1 + 1/2) / 2.
    assert recall_curve([first, second], 3) == [0.25, 0.75, 0.75]


def test_ablation_and_html_report(kb: KnowledgeBase, tmp_path: Path) -> None:
    from verirag.evaluation.ablation import NAIVE_DIR, ablation
    from verirag.evaluation.report import html_report

    kb.ingest(SAMPLE / "v1")
    items = [
        QA("How many days do I have to return an item?", ("30 days",), None, ("refund-policy.md",)),
        QA("Who won the 1998 football world cup?", (), unanswerable=True),
    ]
    runs = ablation(kb, items, k=8)
    naive, full = runs["naive"], runs["full"]
    assert naive.settings["chunking"] == "fixed 512 tokens" and naive.settings["k"] == 3
    assert naive.settings["search"] == "dense" and naive.settings["citation_check"] is False
    assert full.settings["chunking"] == "structure 256 tokens"
    # The naive pipeline never abstains: it has no relevance floor and no check.
    assert naive.summary["abstention_rate"] == 0.0
    assert full.summary["abstention_recall"] == 1.0
    with KnowledgeBase(kb.path / NAIVE_DIR) as copy:
        assert {d.doc_id for d in copy.documents()} == {d.doc_id for d in kb.documents()}
        assert all(c.section == () for c in copy.chunks("refund-policy.md"))
    page = html_report("sample", runs)
    assert page.count('src="data:image/png;base64,') == 3
    assert "How many days do I have to return an item?" in page
    assert "<td>naive</td>" in page and "<td>full</td>" in page
