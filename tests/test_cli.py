"""The command line on the sample corpus: ingest v1, sync v2, history, show, diff, check."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE, write
from verirag import KnowledgeBase
from verirag.cli import app

runner = CliRunner()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VERIRAG_KB", str(tmp_path / "kb"))
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_sample_corpus_v1_then_v2(cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("ingest", str(SAMPLE / "v1"))
    assert "Ingest summary" in first
    assert len(re.findall(r"^new\s+\S+\s+1\b", first, re.M)) == 8

    second = cli("ingest", "--sync", str(SAMPLE / "v2"))
    for status, doc, version in [
        ("changed", "refund-policy.md", 2),
        ("changed", "customer-policies.pdf", 2),
        ("changed", "employee-handbook.docx", 2),
        ("removed", "faq.html", 2),
    ]:
        assert re.search(rf"{status}\s+{re.escape(doc)}\s+{version}\b", second), second
    assert "shipping-policy.md" not in second  # unchanged files are counted, not listed

    docs = cli("docs")
    assert "refund-policy.md" in docs and "faq.html" not in docs
    assert "faq.html" in cli("docs", "--all")

    history = cli("history", "refund-policy.md")
    assert "superseded" in history and "current" in history

    diff = cli("diff", "refund-policy.md", "1", "2")
    assert "-You may return any unused item in its original packaging within 30 days" in diff
    assert "+You may return any unused item in its original packaging within 14 days" in diff

    old = cli("show", "refund-policy.md@1")
    assert "version 1 (superseded)" in old and "30 days" in old
    chunks = cli("show", "customer-policies.pdf", "--chunks")
    assert "Refund Policy > Eligibility" in chunks and "14 days" in chunks

    assert cli("check").startswith("ok: 7 documents")


def test_errors_are_clear(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert "no document 'nope.md'" in cli("history", "nope.md", code=2)
    write(tmp_path / "d", "a.md", "# A\n\nAlpha.\n")
    cli("ingest", str(tmp_path / "d"))
    assert "has no version 9" in cli("show", "a.md@9", code=2)
    assert "key=value" in cli("ingest", str(tmp_path / "d"), "--meta", "novalue", code=2)


def test_failed_files_exit_1_and_are_listed(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "good.md", "# Good\n\nFine.\n")
    write(docs, "broken.pdf", b"not a pdf")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "verirag",
            "--kb",
            str(tmp_path / "kb"),
            "ingest",
            str(docs),
            "--access",
            "staff",
            "--meta",
            "owner=ops",
        ],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "broken.pdf" in result.stdout and "corrupt or unreadable PDF" in result.stdout
    assert "new" in result.stdout and "good.md" in result.stdout


def test_ask_cites_and_audits(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("ingest", str(SAMPLE / "v1"))
    cli("ingest", "--sync", str(SAMPLE / "v2"))
    text = cli("ask", "how many days do I have to return an item?")
    assert "14 days" in text and "refund-policy.md v2" in text
    answer_id = re.search(r"answer id ([0-9a-f]{32})", text).group(1)  # type: ignore[union-attr]
    trace = cli("audit", "show", answer_id)
    assert '"question": "how many days do I have to return an item?"' in trace
    assert '"doc_id": "refund-policy.md"' in trace
    followed = cli(
        "ask",
        "How long does it take?",
        "--history",
        "Tell me about refunds to the original payment method.",
    )
    assert "searched as: How long does it take? (" in followed and "carried terms" in followed
    abstained = cli("ask", "what is the warranty on tents?")  # the FAQ saying it is retired
    assert abstained.startswith("The documents don't say")
    assert answer_id in cli("audit", "list")
    out = tmp_path / "audit.jsonl"
    assert "wrote 3 answers" in cli("audit", "export", "--out", str(out))
    assert len(out.read_text().splitlines()) == 3
    # Feedback (given in the web UI or the API) goes out with --feedback, and only rated ones.
    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.audit.give_feedback(answer_id, "key:abc", helpful=False, comment="cites v1")
    rated = tmp_path / "rated.jsonl"
    assert "wrote 1 answers with feedback" in cli("audit", "export", "--feedback", "-o", str(rated))
    (line,) = [json.loads(x) for x in rated.read_text().splitlines()]
    assert line["answer_id"] == answer_id and line["question"].startswith("how many days")
    assert [(f["principal"], f["helpful"], f["comment"]) for f in line["feedback"]] == [
        ("key:abc", False, "cites v1")
    ]
    cli("audit", "show", "nope", code=1)
    cli("ask", "   ", code=2)


def test_config_shows_and_changes_query_time_settings(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert "no knowledge base" in cli("config", code=1)
    write(tmp_path / "d", "a.md", "# A\n\nAlpha.\n")
    cli("ingest", str(tmp_path / "d"))
    assert '"history_days": 90' in cli("config")
    changed = cli("config", "history_days=none", "quantization=none")
    assert '"history_days": null' in changed and '"quantization": "none"' in changed
    assert '"history_days": null' in cli("config")  # stored
    assert "history_days: Input should be greater than 0" in cli(
        "config", "history_days=-1", code=2
    )
    refused = " ".join(cli("config", "chunk_tokens=512", code=2).replace("│", " ").split())
    assert "are fixed when a knowledge base is made" in refused
    assert "Alpha" in cli("search", "alpha")  # reopened with the new layout
