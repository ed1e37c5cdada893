"""Re-rankers in the search path: a sentence-transformers CrossEncoder built inside the test
(real loading code, tiny random weights), and verirag's own ONNX cross-encoder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import write
from verirag import Config, KnowledgeBase, SearchOptions

torch = pytest.importorskip("torch", reason="needs the [train] extra (torch==2.13.0)")
pytest.importorskip("sentence_transformers", reason="needs the [train] extra")


def tiny_cross_encoder(path: Path) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    from verirag.tuning.reranker import base_model_dir

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(path)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(base_model_dir() / name, path / name)
    return path


def test_crossencoder_by_path_scores_and_reorders(tmp_path: Path, docs: Path) -> None:
    from verirag.retrieval.rerank import CrossEncoderReranker

    model = tiny_cross_encoder(tmp_path / "ce")
    reranker = CrossEncoderReranker(str(model))
    scores = reranker.score("refund window", ["Refunds within 14 days.", "Shipping in 5 days."])
    assert scores.shape == (2,) and scores[0] != scores[1]
    assert (reranker.score("refund window", ["Refunds within 14 days."]) == scores[:1]).all()

    for i in range(6):
        write(docs, f"d{i}.md", f"# Doc {i}\n\nRefund rule number {i} applies to order type {i}.\n")
    with KnowledgeBase(tmp_path / "kb", config=Config(reranker=f"st:{model}")) as kb:
        kb.ingest(docs)
        alone = kb.search("refund rule", k=6, options=SearchOptions(rerank_weight=1.0))
        assert all("rerank" in r.scores for r in alone)
        by_reranker = sorted(alone, key=lambda r: -r.scores["rerank"])
        assert [r.doc_id for r in alone] == [r.doc_id for r in by_reranker]
        blended = kb.search("refund rule", k=6)  # default: half re-ranker, half fused score
        assert [r.score for r in blended] == sorted((r.score for r in blended), reverse=True)
        assert all(0.0 <= r.score <= 1.0 for r in blended)
        plain = kb.search("refund rule", k=6, options=SearchOptions(rerank=False))
        assert all("rerank" not in r.scores for r in plain)


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    from verirag.retrieval import load_reranker

    with pytest.raises(ValueError, match="no re-ranker at"):
        load_reranker(str(tmp_path / "nothing-here"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError, match=re.escape("missing model.onnx, tokenizer.json")):
        load_reranker(str(tmp_path / "empty"))
