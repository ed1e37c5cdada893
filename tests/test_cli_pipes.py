"""The command line read by other programs: piped output is never wrapped, ``diff`` is a patch
that ``patch`` applies, an expected error is one line on stderr, the demo's commands paste."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_verirag, write
from verirag import KnowledgeBase

LONG = "a-document-whose-name-is-much-longer-than-any-terminal-is-wide-" * 2 + "policy.md"
SENTENCE = (
    "Refunds are paid within fourteen days to the original payment method, and a line this "
    "long is where a wrapped diff stopped being a patch."
)


@pytest.fixture(scope="module")
def kb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pipes")
    docs = root / "docs"
    write(docs, LONG, f"# Refunds\n\n{SENTENCE}\n\n## Window\n\nReturn within 30 days.\n")
    with KnowledgeBase(root / "kb") as kb:
        kb.ingest(docs)
        write(docs, LONG, f"# Refunds\n\n{SENTENCE}\n\n## Window\n\nReturn within 14 days.\n")
        kb.ingest(docs)
    return root / "kb"


def test_piped_tables_keep_each_row_on_one_line(kb_path: Path) -> None:
    for args in (["docs"], ["history", LONG], ["search", "refund window", "-k", "2"]):
        result = run_verirag(kb_path, *args)
        assert result.returncode == 0, result.stderr
        rows = [line for line in result.stdout.splitlines() if LONG in line]
        assert rows, f"{args}: {LONG} is not whole on any line:\n{result.stdout}"


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs GNU patch")
def test_diff_is_a_unified_diff_that_patch_applies(kb_path: Path, tmp_path: Path) -> None:
    with KnowledgeBase(kb_path) as kb:
        old, new = kb.version(LONG, 1).text or "", kb.version(LONG, 2).text or ""
    result = run_verirag(kb_path, "diff", LONG, "1", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"--- {LONG}@1\n+++ {LONG}@2\n@@ ")
    assert "\x1b[" not in result.stdout  # no colour codes in a pipe
    (tmp_path / "old.txt").write_text(old + "\n", encoding="utf-8")
    applied = subprocess.run(
        ["patch", "--quiet", "-o", str(tmp_path / "new.txt"), str(tmp_path / "old.txt")],
        input=result.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (tmp_path / "new.txt").read_text(encoding="utf-8") == new + "\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["history"], "verirag history: Missing argument 'doc'. (see `verirag history --help`)"),
        (["search", "x", "-k", "0"], "greater than or equal to 1"),
        (["nosuch"], "verirag: No such command 'nosuch'."),
        (["show", "nope.md"], "no document 'nope.md'"),
        (["diff", LONG, "1", "9"], f"no version 9 of '{LONG}'"),
        (["search", "x", "--as-of", "yesterday"], "as-of time 'yesterday' is not ISO 8601"),
        (["ask", "refunds", "--llm", "gguf:/no/such.gguf"], "GGUF model not found"),
        (["ask", "refunds", "--llm", "nosuch:model"], "unknown generator 'nosuch:model'"),
        (["audit", "show", "0123"], "no answer '0123'"),
        (["keys", "revoke", "nope"], "no active key 'nope'"),
    ],
)
def test_an_expected_error_is_one_line_on_stderr(kb_path: Path, args: list[str], says: str) -> None:
    result = run_verirag(kb_path, *args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert says in result.stderr


def test_the_demo_echoes_commands_that_paste_back_to_the_same_words(tmp_path: Path) -> None:
    script = (ROOT / "demo.sh").read_text(encoding="utf-8")
    quoted = script[script.index("quoted() {") : script.index("\n}\n", script.index("quoted() {"))]
    words = ["ask", "how many days do I have?", "--as-of", "2026-01-31T09:30:00.5", "it's", ""]
    echoed = subprocess.run(
        ["bash", "-c", quoted + '\n}\nquoted "$@"', "demo", *words],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert echoed.startswith("ask 'how many days do I have?' --as-of 2026-01-31T09:30:00.5 ")
    pasted = subprocess.run(
        ["bash", "-c", f'printf "%s\\0" {echoed}'], capture_output=True, text=True, check=True
    ).stdout
    assert pasted.split("\0")[:-1] == words
