"""Metrics against values computed by hand, with BEIR's conventions."""

from __future__ import annotations

import math

import pytest

from verirag.evaluation import evaluate, mrr_at, ndcg_at, recall_at
from verirag.evaluation.metrics import ranked


def test_ndcg_uses_linear_gains_and_log2_discount() -> None:
    judged = {"a": 2, "b": 1, "z": 0}
    # Ranking: x (0), a (2), b (1). DCG = 2/log2(3) + 1/log2(4); ideal = 2/log2(2) + 1/log2(3).
    dcg = 2 / math.log2(3) + 1 / 2
    ideal = 2 + 1 / math.log2(3)
    assert ndcg_at(["x", "a", "b"], judged, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at(["a", "b"], judged, 10) == pytest.approx(1.0)
    assert ndcg_at(["x", "a", "b"], judged, 1) == 0.0
    assert ndcg_at(["a"], {"z": 0}, 10) == 0.0  # nothing relevant: 0, not a division error


def test_recall_and_mrr() -> None:
    judged = {"a": 1, "b": 2, "c": 1, "n": 0}
    assert recall_at(["x", "a", "n", "b"], judged, 100) == pytest.approx(2 / 3)
    assert recall_at(["x", "a", "n", "b"], judged, 2) == pytest.approx(1 / 3)
    assert mrr_at(["n", "x", "b"], judged, 10) == pytest.approx(1 / 3)
    assert mrr_at(["n", "x", "b"], judged, 2) == 0.0


def test_trec_eval_tie_breaking_and_identical_ids() -> None:
    # Equal scores: document id descending, as trec_eval sorts.
    assert ranked({"d1": 1.0, "d3": 1.0, "d2": 2.0}) == ["d2", "d3", "d1"]
    assert ranked({"q1": 9.0, "d1": 1.0}, "q1") == ["d1"]


def test_evaluate_averages_over_judged_queries_with_a_run() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}
    run = {
        "q1": {"a": 0.9, "x": 0.1},  # perfect
        "q2": {"x": 0.9, "b": 0.5},  # relevant at rank 2
        "q4": {"a": 1.0},  # not judged: ignored
    }  # q3 has no run: skipped, as pytrec_eval does
    scores = evaluate(run, qrels)
    assert scores["ndcg@10"] == pytest.approx((1.0 + 1 / math.log2(3)) / 2)
    assert scores["mrr@10"] == pytest.approx((1.0 + 0.5) / 2)
    assert scores["recall@100"] == pytest.approx(1.0)


def test_a_document_equal_to_the_query_id_is_ignored() -> None:
    qrels = {"q1": {"a": 1}}
    assert evaluate({"q1": {"q1": 5.0, "a": 1.0}}, qrels)["ndcg@10"] == pytest.approx(1.0)
    assert evaluate({"q1": {"q1": 5.0, "a": 1.0}}, qrels, ignore_identical_ids=False)[
        "ndcg@10"
    ] == pytest.approx(1 / math.log2(3))
