"""The extractive generator on technical text (the real embedder): options and identifiers
match as written, an option's later sentences still name it, no filler from other sections,
and each citation names the lines of the chunk its sentence came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from verirag import KnowledgeBase
from verirag.embedding import load_embedder
from verirag.generation import Source
from verirag.generation.cues import AnswerKind, answer_kind
from verirag.generation.extractive import ExtractiveGenerator
from verirag.text import code_tokens

# As the man-page reader writes grep(1)'s entries: one "term: description" block each.
CONTEXT = (
    "-A NUM, --after-context=NUM: Print NUM lines of trailing context after matching lines.\n\n"
    "-B NUM, --before-context=NUM: Print NUM lines of leading context before matching lines.\n\n"
    "-a, --text: Process a binary file as if it were text.\n\n"
    "-L local_socket:remote_socket: Specifies that connections to the given port on the local "
    "host are to be forwarded to the remote side. Whenever a connection is made to the local "
    "port, the connection is forwarded over the secure channel."
)


def source(n: int, text: str, section: tuple[str, ...] = ("OPTIONS",), doc: str = "grep") -> Source:
    return Source(n, doc, 1, doc, section, text, 0, len(text), None, None, ("c",), 1.0, 0.0)


@pytest.fixture(scope="module")
def generator() -> ExtractiveGenerator:
    return ExtractiveGenerator(load_embedder("minilm"))


def test_code_tokens_keep_case_and_leave_prose_alone() -> None:
    assert code_tokens("Does -A differ from -a or --after-context=NUM?") == {
        "-A",
        "-a",
        "--after-context",
    }
    assert code_tokens("ffi_prep_cif, highWaterMark and LIBFFI_TMPDIR") == {
        "ffi_prep_cif",
        "highWaterMark",
        "LIBFFI_TMPDIR",
    }
    assert code_tokens("A non-empty e-mail - a dash -- and -1") == set()


def test_questions_for_an_option_ask_for_code() -> None:
    assert answer_kind("Which grep option ignores case?") is AnswerKind.CODE
    assert answer_kind("How do I make find descend a given number of levels?") is AnswerKind.CODE
    assert answer_kind("Which libffi function prepares a call interface?") is AnswerKind.CODE
    assert answer_kind("How many -v options raise the verbosity?") is AnswerKind.NUMBER
    assert answer_kind("Which country won the cup?") is AnswerKind.NAME


def test_an_entry_that_only_repeats_the_question_still_answers_it(
    generator: ExtractiveGenerator,
) -> None:
    # Every word of the -A entry is in the question; its option is not. Folded, the entry
    # was "nothing but the question" and the -B entry answered instead.
    question = "Which grep option prints NUM lines of trailing context after matching lines?"
    ranked = generator.rank(question, [source(1, CONTEXT)])
    assert ranked[0].text.startswith("-A NUM, --after-context=NUM:")


def test_an_option_in_the_question_matches_as_written(generator: ExtractiveGenerator) -> None:
    text = (
        "-a: Disables forwarding of the authentication agent connection.\n\n"
        "-A: Enables forwarding of the authentication agent connection."
    )
    answer = generator.generate("What does -A do to the agent connection?", [source(1, text)])
    assert answer.parts[0].startswith("-A: Enables"), answer.parts


def test_a_later_sentence_of_an_entry_names_its_option(generator: ExtractiveGenerator) -> None:
    question = "What happens whenever a connection is made to the local port?"
    answer = generator.generate(question, [source(1, CONTEXT)])
    assert answer.parts[0].startswith("-L local_socket:remote_socket: … Whenever a connection")


def test_no_filler_from_other_sections(generator: ExtractiveGenerator) -> None:
    sources = [
        source(1, CONTEXT, ("OPTIONS", "Context Line Control")),
        source(2, "Normally the exit status is 0 if a line is selected.", ("EXIT STATUS",)),
        source(3, "GREP_COLORS sets the colors of matching lines and context lines.", ("ENV",)),
    ]
    question = "Which grep option prints lines of trailing context after matching lines?"
    cut = generator.generate(question, sources)
    assert cut.parts[0].startswith("-A NUM")
    assert all(part.endswith("[1]") for part in cut.parts), cut.parts
    # Without the margin the weaker sentences of the other sections are added as filler.
    uncut = ExtractiveGenerator(generator.embedder, filler_margin=float("inf"))
    assert {part[-3:] for part in uncut.generate(question, sources).parts} > {"[1]"}


def test_each_citation_names_the_lines_of_its_own_sentence(kb: KnowledgeBase, docs: Path) -> None:
    # One long section: its chunks merge into one passage, but a claim cites its own lines.
    filler = [
        f"Step {i} of the procedure checks gauge number {i} against the log." for i in range(80)
    ]
    lines = ["# Maintenance", "", "## Procedure", "", *filler]
    lines[60] = "The turbine bearings are greased with lithium paste every ninety days."
    write(docs, "manual.md", "\n".join(lines) + "\n")
    kb.ingest(docs)
    answer = kb.ask("How often are the turbine bearings greased?")
    assert not answer.abstained and "ninety days" in answer.text
    (source,) = [s for s in answer.sources if s.n == answer.claims[0].cited[0]]
    assert len(source.parts) > 1  # a merged passage
    (where,) = answer.to_json()["claims"][0]["where"]
    first, last = where["lines"]
    assert first <= 61 <= last  # the sentence's line (1-based)
    assert (first, last) != (source.line_start, source.line_end)  # not the whole passage
    assert where["label"] == answer.cited[0].label()
    assert f"lines {first}-{last}" in where["label"]
