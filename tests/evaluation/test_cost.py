"""Cost per day and model from a real audit trail, and the retrieval-vs-fine-tuning
comparison, against hand-computed figures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verirag import AuditRecord, KnowledgeBase
from verirag.cli import app
from verirag.evaluation.cost import DAYS_PER_MONTH, Inputs, compare, cost_rows

DAY = 86400.0
T = 1_790_000_000.0  # 2026-09-21 (UTC), early in the day


def _record(i: int, at: float, model: str, tokens_in: int, tokens_out: int, cost: float):  # type: ignore[no-untyped-def]
    return AuditRecord(f"a{i}", at, "q", None, False, model, tokens_in, tokens_out, cost, {})


def test_cost_per_day_and_model_from_the_audit_trail(kb: KnowledgeBase) -> None:
    for r in (
        _record(1, T, "qwen", 1000, 100, 0.002),
        _record(2, T + 60, "gpt", 2000, 50, 0.010),
        _record(3, T + DAY, "qwen", 500, 20, 0.001),
    ):
        kb.audit.record(r)
    days = cost_rows(kb.audit.records(), by="day")
    assert [(r.key, r.answers, r.tokens_in, r.tokens_out) for r in days] == [
        ("2026-09-21", 2, 3000, 150),
        ("2026-09-22", 1, 500, 20),
        ("total", 3, 3500, 170),
    ]
    assert days[0].cost == pytest.approx(0.012) and days[0].per_answer == pytest.approx(0.006)
    models = {r.key: r for r in cost_rows(kb.audit.records(), by="model")}
    assert models["qwen"].answers == 2 and models["qwen"].cost == pytest.approx(0.003)
    assert models["total"].cost == pytest.approx(0.013)


def test_compare_by_hand() -> None:
    inputs = Inputs(
        queries_per_day=100,
        changes_per_month=10,
        tokens_in_per_query=2000,
        tokens_out_per_query=100,
        price_in=1.0,
        price_out=2.0,
        ft_tokens_in_per_query=50,
        ft_price_in=2.0,
        ft_price_out=4.0,
        retrain_cost=300,
        max_stale_days=DAYS_PER_MONTH / 4,
        ingest_cost_per_change=0.5,
        months=12,
    )
    result = compare(inputs)
    queries = 100 * DAYS_PER_MONTH
    # Retrieval: (2000 x $1 + 100 x $2) per million tokens per query, plus 10 re-ingests.
    assert result.retrieval_monthly == pytest.approx(queries * 2200 / 1e6 + 5)
    # Fine-tuning: 4 retrains a month keep changes under a quarter month; (50 x 2 + 100 x 4).
    assert result.retrains_per_month == pytest.approx(4)
    assert result.finetune_monthly == pytest.approx(queries * 500 / 1e6 + 1200)
    assert result.finetune_mean_stale_days == pytest.approx(DAYS_PER_MONTH / 8)
    assert result.finetune_total == pytest.approx(12 * result.finetune_monthly)
    # Fewer changes than the staleness bound asks for: retrain only when something changed.
    rare = compare(dataclasses.replace(inputs, changes_per_month=1))
    assert rare.retrains_per_month == 1


def test_report_and_advise_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERIRAG_KB", str(tmp_path / "kb"))
    monkeypatch.setenv("COLUMNS", "200")
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.audit.record(_record(1, T, "qwen", 1200, 80, 0.004))
    report = CliRunner().invoke(app, ["report", "cost", "--by", "model"])
    assert report.exit_code == 0, report.output
    assert "qwen" in report.output and "1,200" in report.output
    advice = CliRunner().invoke(app, ["advise", "--queries-per-day", "10"])
    assert advice.exit_code == 0, advice.output
    assert "1,200 in, 80 out (mean of 1 audited LLM answers)" in advice.output
    assert "cost per fine-tuning run" in advice.output and "Over 12 months" in advice.output
