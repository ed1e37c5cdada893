"""The drift benchmark: its judgements by hand, then the sample scenario end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE
from verirag import Answer, KnowledgeBase, Source
from verirag.cli import app
from verirag.evaluation.drift import (
    DriftQuestion,
    Outcome,
    Scenario,
    _fresh,
    _stale,
    rgb_scenario,
    run_drift,
    summarize_drift,
)
from verirag.generation import Claim

Q = DriftQuestion("How many days?", "refund.md", ("30 days",), ("14 days",))


def _answer(text: str, *cited: tuple[str, int], abstained: bool = False) -> Answer:
    sources = [
        Source(n, doc, version, None, (), "", 0, 0, None, None, (), 1.0, 0.0)
        for n, (doc, version) in enumerate(cited, start=1)
    ]
    claims = [Claim(text, tuple(range(1, len(cited) + 1)), True, 1.0, 1.0)] if cited else []
    return Answer("id", "q", text, abstained, sources, claims)


def test_fresh_means_the_new_fact_from_the_new_version() -> None:
    assert _fresh(_answer("Within 14 days. [1]", ("refund.md", 2)), Q, current=2)
    # Right fact from the wrong document, or from the old version: not an answer from it.
    assert not _fresh(_answer("Within 14 days. [1]", ("other.md", 1)), Q, current=2)
    assert not _fresh(_answer("Within 14 days. [1]", ("refund.md", 1)), Q, current=2)
    # Stating the old fact from the document too is not fresh ...
    both = _answer("Within 14 days, or 30 days. [1]", ("refund.md", 2))
    assert not _fresh(both, Q, current=2)
    # ... from another document that still says it, it is what that document says.
    other = _answer("Within 14 days. [1] Within 30 days. [2]", ("refund.md", 2), ("old.md", 1))
    other.claims[:] = [
        Claim("Within 14 days.", (1,), True, 1.0, 1.0),
        Claim("Within 30 days.", (2,), True, 1.0, 1.0),
    ]
    assert _fresh(other, Q, current=2)
    assert not _fresh(_answer("The documents don't say.", abstained=True), Q, current=2)
    gone = DriftQuestion("Which days?", "handbook.md", ("Monday to Thursday",), ())
    assert _fresh(_answer("The documents don't say.", abstained=True), gone, current=None)
    assert not _fresh(_answer("Monday to Thursday. [1]", ("handbook.md", 1)), gone, None)


def test_stale_citations_and_the_summary() -> None:
    current = {"refund.md": 2, "faq.html": None}
    assert not _stale(_answer("x [1]", ("refund.md", 2), ("notes.md", 1)), current)
    assert _stale(_answer("x [1]", ("refund.md", 1)), current)  # superseded
    assert _stale(_answer("x [1]", ("faq.html", 3)), current)  # deleted
    outcomes = [
        Outcome("a", "d", True, True, False, True, 0.1),
        Outcome("b", "d", True, True, False, False, 0.3),
        Outcome("c", "d", False, False, True, True, None),
        Outcome("d", "d", True, True, False, True, 0.2),
    ]
    summary = summarize_drift(outcomes)
    assert summary["fresh_answer_rate"] == 0.75
    assert summary["stale_citation_rate"] == 0.25
    assert summary["as_of_correctness"] == 0.75
    assert summary["before_accuracy"] == 0.75
    assert summary["time_to_fresh_p50_ms"] == pytest.approx(200)
    assert summary["time_to_fresh_p95_ms"] == pytest.approx(300)
    assert summary["edits_seen_fresh_at_once"] == 0.75
    # Over the three it answered right before the change: a, b, d are all fresh.
    assert summary["fresh_answer_rate_known"] == 1.0
    assert summary["as_of_correctness_known"] == pytest.approx(2 / 3)


def test_the_sample_scenario_end_to_end(kb: KnowledgeBase) -> None:
    report = run_drift(kb, Scenario.load(SAMPLE / "drift.json"))
    s = report.summary
    assert s["questions"] == 5 and s["before_accuracy"] == 1.0
    assert s["stale_citation_rate"] == 0.0
    assert s["fresh_answer_rate"] == 1.0
    assert s["as_of_correctness"] == 1.0
    assert s["time_to_fresh_p95_ms"] is not None
    # The deleted FAQ is gone from live answers and still there as of before.
    faq = next(o for o in report.outcomes if o.doc == "faq.html")
    assert "1 hour" not in faq.answer and "1 hour" in faq.as_of_answer


def test_rgb_items_become_an_edit_each(tmp_path: Path) -> None:
    item = {
        "_id": "en_fact-0",
        "question": "Super Bowl 2021 location",
        "answer": "Tampa, Florida",
        "fake_answer": "Glendale, Arizona",
        "true_passages": ["It was played in Tampa, Florida."],
        "counterfactual_passages": ["It was played in Glendale, Arizona."],
        "negative_passages": ["Super Bowl LVIII is in Las Vegas."],
    }
    path = tmp_path / "en_fact_normalized.jsonl"
    path.write_text(json.dumps(item) + "\n")
    scenario = rgb_scenario(path)
    assert [t.doc_id for t in scenario.texts] == ["en_fact-0/facts", "en_fact-0/negative-0"]
    assert scenario.questions[0].before == ("Tampa, Florida",)
    assert scenario.questions[0].after == ("Glendale, Arizona",)
    assert scenario.edits[0].text == "It was played in Glendale, Arizona."
    assert Scenario.load(tmp_path).name == "rgb en_fact"


def test_eval_drift_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", "drift", str(SAMPLE / "drift.json"), "--json", str(tmp_path / "d.json")]
    )
    assert result.exit_code == 0, result.output
    assert "stale_citation_rate" in result.output
    assert json.loads((tmp_path / "d.json").read_text())["summary"]["stale_citation_rate"] == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    failed = CliRunner().invoke(app, ["eval", "drift", str(bad)])
    assert failed.exit_code == 2 and "needs questions and edits" in failed.output
