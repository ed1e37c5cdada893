"""What generation reads in questions and documents: citation markers, the kind of answer a
question asks for, and document text made inert (forged markers, delimiters, instructions)."""

from __future__ import annotations

import re
from enum import StrEnum

from verirag.text.terms import NUMBER, STOPWORDS, WORD, code_tokens

_CITATION = re.compile(r"\s*\[(\d+)\]")


def citations(sentence: str) -> tuple[str, list[int]]:
    """A sentence without its ``[n]`` markers, and the numbers they name."""
    numbers = [int(m.group(1)) for m in _CITATION.finditer(sentence)]
    return _CITATION.sub("", sentence).strip(), numbers


class AnswerKind(StrEnum):
    DATE = "date"
    NUMBER = "number"
    NAME = "name"
    CODE = "code"  # an option, a function, a variable: a token as written
    OTHER = "other"


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(rf"\b(?:{_MONTH}\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTH}|(?:1[5-9]|20)\d\d)\b", re.I)
_NAME = re.compile(r"[A-Z][\w'\u2019.-]*(?:\s+[A-Z][\w'\u2019.-]*)*")


_CODE_QUESTION = re.compile(
    r"^(?:how (?:do|can|would|should) (?:i|you|we)|how to)\b"
    r"|^(?:which|what)\b(?:\s+[\w-]+){0,3}?\s+(?:option|flag|switch|function|variable|macro|"
    r"test|setting|directive|command|method|class|parameter|argument|keyword|constant|"
    r"exception|field|attribute|primary|operator|builtin)s?\b"
)


def answer_kind(question: str) -> AnswerKind:
    """What a factoid question asks for, from its wording. "Which grep option ..." and "How
    do I ..." ask for an option or a name in code, as the documents write it."""
    q = question.lower().strip()
    if q.startswith("when") or re.search(r"\b(date|what year|which year|what day)\b", q):
        return AnswerKind.DATE
    if q.startswith(("how many", "how much", "how old", "how long", "how far")):
        return AnswerKind.NUMBER
    if _CODE_QUESTION.search(q):
        return AnswerKind.CODE
    if re.search(r"\b(revenue|price|cost|number of|population|amount)\b", q):
        return AnswerKind.NUMBER
    if q.startswith(("who", "where", "which", "whom", "whose")) or re.search(
        r"\b(who|which company|which country|what company|what country)\b", q
    ):
        return AnswerKind.NAME
    return AnswerKind.OTHER


def answer_candidates(sentence: str, question: str, kind: AnswerKind) -> set[str]:
    """Strings of the asked-for kind in ``sentence`` that the question does not already say:
    dates, numbers, runs of capitalised words, or code tokens."""
    asked = question.lower()
    if kind is AnswerKind.CODE:
        return code_tokens(sentence) - code_tokens(question)
    if kind is AnswerKind.DATE:
        return {
            m.group().lower() for m in _DATE.finditer(sentence) if m.group().lower() not in asked
        }
    if kind is AnswerKind.NUMBER:
        return {m.group() for m in NUMBER.finditer(sentence) if m.group() not in question}
    if kind is AnswerKind.NAME:
        words = {w.lower() for w in WORD.findall(question)}
        found = set()
        for match in _NAME.finditer(sentence):
            new = [
                w
                for w in match.group().split()
                if (bare := w.lower().strip(".'\u2019s")) not in words and bare not in STOPWORDS
            ]
            if new:
                found.add(" ".join(new).strip(".,"))
        return found
    return set()


_MARKER = re.compile(r"\[(\d+)\]")
_DELIMITER = re.compile(r"<(\s*/?\s*(?:sources?|question|system|user|assistant)\b)", re.I)
_ROLE_LINE = re.compile(r"(?im)^(\s*)(question|answer|system|user|assistant|sources?)(\s*):")


def inert(text: str) -> str:
    """Document text made inert for a generator, same length (offsets still hold): a
    ``[n]`` marker written in a document becomes ``(n)`` so it can never pass for a
    citation, and prompt delimiters (``<source>``, ``Question:`` lines) lose their ``<`` and
    ``:``."""
    text = _MARKER.sub(lambda m: f"({m.group(1)})", text)
    text = _DELIMITER.sub(lambda m: "\u2039" + m.group(1), text)
    return _ROLE_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}\u02d0", text)


_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|cannot|without|nothing|nobody|nowhere)\b|n't\b", re.I
)


def negated(text: str) -> bool:
    """Whether a sentence says something is not so (an odd number of negations)."""
    return len(_NEGATION.findall(text)) % 2 == 1


# A sentence addressed to the reader as an instruction: what an injected document says to
# the model, never an answer to a question.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,40}\b(?:previous|prior|above|earlier|all|"
    r"other|these|those|any)\b[^.]{0,20}\b(?:instructions?|rules?|prompts?|directions?|"
    r"sources?|context|messages?)\b"
    r"|\byou\s+(?:must|should|have\s+to|need\s+to|are\s+(?:required|instructed))\s+"
    r"(?:answer|say|reply|respond|state|output|write|print|tell|ignore|claim)\b"
    r"|^\s*(?:please\s+)?(?:say|answer|reply|respond|output|print|write)\b[^.]{0,30}"
    r"(?:[\"'\u201c]|\bthat\b|\bwith\b|\bonly\b)"
    r"|\b(?:the\s+)?only\s+correct\s+answer\b"
    r"|\b(?:as\s+an?\s+)?(?:ai|language\s+model|assistant)\b,?\s+you\s+(?:must|should)\b"
    r"|\bsystem\s+prompt\b|\bnew\s+instructions?\b"
    # Prompt structure forged in a document (made inert by ``inert``, still not an answer).
    r"|[<\u2039]\s*/?\s*(?:sources?|question|system|user|assistant)\b"
    r"|^\W*(?:question|answer|system|user|assistant)\s*[:\u02d0]",
    re.I,
)


def is_instruction(sentence: str) -> bool:
    """Whether ``sentence`` is addressed to the reader as an instruction ("ignore previous
    instructions", "you must answer ...", "say 'PWNED'")."""
    return bool(_INSTRUCTION.search(sentence))
