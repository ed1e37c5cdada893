"""Sentence boundaries: prose for chunking, answer sentences for generation and checks."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "al",
        "fig",
        "figs",
        "eq",
        "no",
        "nos",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "inc",
        "ltd",
        "co",
        "jr",
        "sr",
        "approx",
        "dept",
        "est",
        "vol",
        "pp",
        "ca",
        "resp",
    ]
)
_SENTENCE_END = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])|\n+"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence boundaries in prose (and at line breaks), skipping common abbreviations."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start()].rsplit(None, 1)
        last_word = before[-1].lower().rstrip(".") if before else ""
        if match.group().strip() == "." and (last_word in _ABBREVIATIONS or len(last_word) == 1):
            continue
        spans.append((start, match.start() + len(match.group().rstrip())))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def line_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


# Snippet separators ("a · b", "a ... b", "a | b") end a sentence as a full stop does.
_PIECES = re.compile(r"\s+[·•|]\s+|\s*\.\.\.+\s*|\s*…\s*|\s;\s")


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (at least 4 characters each)."""
    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        cursor = start
        for sep in _PIECES.finditer(text, start, end):
            spans.append((cursor, sep.start()))
            cursor = sep.end()
        spans.append((cursor, end))
    return [(a, b) for a, b in spans if len(text[a:b].strip()) > 3]


def replaced(old: str, new: str) -> list[tuple[str, str]]:
    """Where ``new`` rewrote ``old``: runs of sentences, each with what replaced it (sentences
    only added or only removed are left out: nothing was said instead of them)."""
    a = [" ".join(old[x:y].split()) for x, y in sentences(old)]
    b = [" ".join(new[x:y].split()) for x, y in sentences(new)]
    return [
        (" ".join(a[i1:i2]), " ".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b).get_opcodes()
        if tag == "replace"
    ]
