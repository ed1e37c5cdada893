"""Evaluation: retrieval metrics as BEIR computes them, run over BEIR-layout folders; answer
accuracy on your own questions."""

from verirag.evaluation.beir import (
    BeirData,
    Variant,
    VariantResult,
    evaluate_retrieval,
    load_beir,
    standard_variants,
)
from verirag.evaluation.metrics import evaluate, mrr_at, ndcg_at, recall_at
from verirag.evaluation.qa import QA, QARun, evaluate_qa, read_qa

__all__ = [
    "QA",
    "BeirData",
    "QARun",
    "Variant",
    "VariantResult",
    "evaluate",
    "evaluate_qa",
    "evaluate_retrieval",
    "load_beir",
    "mrr_at",
    "ndcg_at",
    "read_qa",
    "recall_at",
    "standard_variants",
]
