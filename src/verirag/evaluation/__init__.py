"""Evaluation: retrieval metrics as BEIR computes them, run over BEIR-layout folders."""

from verirag.evaluation.beir import (
    BeirData,
    Variant,
    VariantResult,
    evaluate_retrieval,
    load_beir,
    standard_variants,
)
from verirag.evaluation.metrics import evaluate, mrr_at, ndcg_at, recall_at

__all__ = [
    "BeirData",
    "Variant",
    "VariantResult",
    "evaluate",
    "evaluate_retrieval",
    "load_beir",
    "mrr_at",
    "ndcg_at",
    "recall_at",
    "standard_variants",
]
