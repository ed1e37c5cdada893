"""What answers cost, from the audit trail, and what keeping knowledge in retrieval costs
against fine-tuning a model on it, from the user's own figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from verirag.store import AuditRecord

DAYS_PER_MONTH = 30.4


@dataclass(frozen=True, slots=True)
class CostRow:
    key: str  # a day (YYYY-MM-DD), a model, or "total"
    answers: int
    tokens_in: int
    tokens_out: int
    cost: float

    @property
    def per_answer(self) -> float:
        return self.cost / self.answers if self.answers else 0.0


def cost_rows(records: Iterable[AuditRecord], by: str = "day") -> list[CostRow]:
    """Answers, tokens and cost per day (UTC) or per model, oldest or A-Z first, then the
    total."""
    groups: dict[str, list[AuditRecord]] = defaultdict(list)
    everything = []
    for r in records:
        key = (
            datetime.fromtimestamp(r.created_at, UTC).strftime("%Y-%m-%d")
            if by == "day"
            else r.model
        )
        groups[key].append(r)
        everything.append(r)

    def row(key: str, rs: list[AuditRecord]) -> CostRow:
        return CostRow(
            key,
            len(rs),
            sum(r.tokens_in for r in rs),
            sum(r.tokens_out for r in rs),
            sum(r.cost for r in rs),
        )

    return [row(k, groups[k]) for k in sorted(groups)] + [row("total", everything)]


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything the comparison assumes; each is printed beside the result."""

    queries_per_day: float
    changes_per_month: float  # documents changed, added or removed
    tokens_in_per_query: float  # retrieval: question + retrieved passages
    tokens_out_per_query: float
    price_in: float  # USD per million tokens, the model answering with retrieval
    price_out: float
    ft_tokens_in_per_query: float  # fine-tuned: the question alone
    ft_price_in: float  # USD per million tokens, the fine-tuned model
    ft_price_out: float
    retrain_cost: float  # USD per fine-tuning run (compute, data preparation, evaluation)
    max_stale_days: float  # how long a changed fact may stay wrong before a retrain
    ingest_cost_per_change: float = 0.0  # USD to re-embed a changed document
    months: int = 12


@dataclass(frozen=True, slots=True)
class Comparison:
    retrieval_monthly: float
    finetune_monthly: float
    retrains_per_month: float
    retrieval_stale_days: float  # a changed document is answered from at once
    finetune_mean_stale_days: float
    months: int

    @property
    def retrieval_total(self) -> float:
        return self.retrieval_monthly * self.months

    @property
    def finetune_total(self) -> float:
        return self.finetune_monthly * self.months


def compare(i: Inputs) -> Comparison:
    """Monthly cost of each path. Fine-tuning must retrain often enough that no change
    waits longer than ``max_stale_days`` (and no more often than things change); between
    retrains its answers are stale for half the interval on average. Retrieval re-ingests a
    changed document at once."""
    queries = i.queries_per_day * DAYS_PER_MONTH
    retrieval = (
        queries * (i.tokens_in_per_query * i.price_in + i.tokens_out_per_query * i.price_out) / 1e6
        + i.changes_per_month * i.ingest_cost_per_change
    )
    retrains = (
        min(i.changes_per_month, DAYS_PER_MONTH / i.max_stale_days)
        if i.changes_per_month > 0
        else 0.0
    )
    finetune = (
        queries
        * (i.ft_tokens_in_per_query * i.ft_price_in + i.tokens_out_per_query * i.ft_price_out)
        / 1e6
        + retrains * i.retrain_cost
    )
    stale = DAYS_PER_MONTH / retrains / 2 if retrains else 0.0
    return Comparison(retrieval, finetune, retrains, 0.0, stale, i.months)


def audited_tokens(records: Iterable[AuditRecord]) -> tuple[float, float, int] | None:
    """Mean input and output tokens of the audited answers an LLM wrote (the extractive
    generator spends none), and how many there were; ``None`` when there are none."""
    llm = [r for r in records if r.tokens_in > 0]
    if not llm:
        return None
    n = len(llm)
    return sum(r.tokens_in for r in llm) / n, sum(r.tokens_out for r in llm) / n, n
