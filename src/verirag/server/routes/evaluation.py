"""Evaluation runs: score your own questions as yourself, list and read runs."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from verirag.access import Principal
from verirag.evaluation.qa import QA
from verirag.server.auth import Auth
from verirag.server.schemas import EvalRequest, EvalRunOut
from verirag.server.service import Service
from verirag.store import StoredRun


def router(service: Service, auth: Auth) -> APIRouter:
    api = APIRouter(prefix="/api/eval", tags=["evaluation"])
    Who = Annotated[Principal, Depends(auth.principal)]

    @api.post("/qa", status_code=201, response_model=StoredRun)
    def eval_qa(who: Who, body: EvalRequest) -> dict[str, Any]:
        items = [
            QA(q.question, tuple(q.answers), q.metadata, tuple(q.gold_docs), q.unanswerable)
            for q in body.questions
        ]
        run_id = service.evaluate(who, items, k=body.k)
        return service.eval_run(who, run_id)

    @api.get("/runs", response_model=list[EvalRunOut])
    def eval_runs(
        who: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 50
    ) -> list[dict[str, Any]]:
        return service.eval_runs(who, limit)

    @api.get("/runs/{run_id}", response_model=StoredRun)
    def eval_run(who: Who, run_id: str) -> dict[str, Any]:
        return service.eval_run(who, run_id)

    return api
