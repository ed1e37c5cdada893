"""Coverage-guided fuzzing of every parser (atheris): any input either parses or raises
ParseError with a reason; any other exception, or a hang past the time cap, is a crash.

    .venv/bin/python fuzz/fuzz_parsers.py -max_total_time=60 -timeout=60 fuzz/corpus

The first byte picks the format; the rest is the file. ``./test.sh`` runs it for a bounded
time on the seed corpus in ``fuzz/corpus`` (made on first run from ``sample/``)."""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from verirag import documents
    from verirag.chunking import Chunker
    from verirag.text import load_tokenizer

NAMES = ["a.md", "a.txt", "a.html", "a.pdf", "a.docx", "a.py", "a.js", "a.csv", "a.json", "a.jsonl"]
ROOT = Path(__file__).resolve().parents[1]
CHUNKER = Chunker(load_tokenizer(), 256, 32)


def one_input(data: bytes) -> None:
    if not data:
        return
    name = NAMES[data[0] % len(NAMES)]
    try:
        parsed = documents.parse(data[1:], name)
    except documents.ParseError:
        return
    for chunk in CHUNKER.chunk("fuzzed", parsed):
        assert parsed.text[chunk.start : chunk.end] == chunk.text


def seed(corpus: Path) -> None:
    """One seed per sample file, its format byte first."""
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    for file in sorted((ROOT / "sample").rglob("*")):
        suffix = "a" + file.suffix.lower()
        if file.is_file() and suffix in NAMES:
            (corpus / file.name).write_bytes(bytes([NAMES.index(suffix)]) + file.read_bytes())


if __name__ == "__main__":
    corpora = [Path(a) for a in sys.argv[1:] if not a.startswith("-")]
    for corpus in corpora:
        seed(corpus)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
