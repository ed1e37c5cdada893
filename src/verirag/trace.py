"""The audit record of an answer: what was asked, under which scope, what was retrieved and
cited, the prompt (and its hash), the cost, and how long each stage took."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from verirag.generation import Answer
from verirag.index import Scope
from verirag.retrieval import SearchOptions, SearchResult
from verirag.store import AsOf, AuditRecord, as_timestamp

Prices = Mapping[str, tuple[float, float]]  # model id -> USD per million tokens in, out


def price(answer: Answer, prices: Prices) -> float:
    """What the answer's tokens cost at the configured prices (0 for a model not priced)."""
    price_in, price_out = prices.get(answer.model, (0.0, 0.0))
    return (answer.tokens_in * price_in + answer.tokens_out * price_out) / 1e6


def audit_record(
    result: Answer,
    results: Sequence[SearchResult],
    scope: Scope,
    *,
    as_of: AsOf | None,
    principal: str | None,
    options: SearchOptions,
    k: int,
    verified: bool,
) -> AuditRecord:
    """The trace of one answer, as the audit trail stores it."""
    prompt = result.prompt or None
    trace: dict[str, Any] = {
        "answer": result.text,
        # a follow-up is searched and answered as this standalone question
        "standalone_question": result.standalone or None,
        "rewrite": result.rewrite or None,
        "reason": result.reason,
        "as_of": None if as_of is None else as_timestamp(as_of),
        "seq": scope.seq,
        "groups": None if scope.groups is None else list(scope.groups),
        "doc_ids": None if scope.doc_ids is None else list(scope.doc_ids),
        "metadata": scope.metadata,
        "k": k,
        "options": {key: str(v) for key, v in dataclasses.asdict(options).items()},
        "retrieved": [
            {
                "doc_id": r.doc_id,
                "version": r.version,
                "chunk_id": r.chunk_id,
                "score": r.score,
                "scores": r.scores,
                "ranks": r.ranks,
            }
            for r in results
        ],
        "sources": [s.to_json() for s in result.sources],
        "claims": [dataclasses.asdict(c) for c in result.claims],
        "data": result.data,
        "fields": result.fields,
        "prompt": prompt,
        "prompt_sha256": None
        if prompt is None
        else hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest(),
        "timings_ms": {stage: round(t * 1000, 3) for stage, t in result.timings.items()},
        "verified": verified,
    }
    return AuditRecord(
        answer_id=result.answer_id,
        created_at=time.time(),
        question=result.question,
        principal=principal,
        abstained=result.abstained,
        model=result.model,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
        cost=result.cost,
        trace=trace,
    )
