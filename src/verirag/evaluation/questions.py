"""Bootstrap a question set from your own corpus, for users who have none.

Without an LLM: cloze questions. A sentence of a chunk that states a quantity (a number,
an amount, a period: "within 30 days") becomes the sentence with that quantity blanked, and
the quantity is the answer. With an LLM: the model reads one chunk and writes a question and
its answer as JSON; a pair whose answer is not in the chunk word for word is dropped. Either
way each question names its document and the chunk it came from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verirag.generation import GenerationError, Generator, Source
from verirag.store import StoredChunk
from verirag.text import sentences

if TYPE_CHECKING:
    from verirag.kb import KnowledgeBase

_QUANTITY = re.compile(
    r"(?P<money>[$€£]\s?)?(?<![\d:.,])\b\d+(?:[.,]\d+)*"
    r"(?P<unit>\s?%|\s+(?:business\s+|working\s+|calendar\s+)?"
    r"(?:days?|hours?|minutes?|weeks?|months?|years?|percent|countries|items?)\b)?(?![\d:])",
    re.IGNORECASE,
)
_CODE = re.compile(r"[=(){}\[\]<>]")  # a line of code is no sentence to ask about
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
}
ASK = (
    "Write one question that the source answers, and its answer: a short phrase copied "
    "word for word from the source."
)


@dataclass(frozen=True, slots=True)
class Generated:
    question: str
    answer: str
    doc_id: str
    version: int
    chunk_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answers": [self.answer],
            "gold_docs": [self.doc_id],
            "source": {"doc_id": self.doc_id, "version": self.version, "chunk_id": self.chunk_id},
        }


def _chunks(kb: KnowledgeBase) -> Iterator[tuple[str | None, StoredChunk]]:
    """Chunks of the live documents, one document at a time in turn, so that a small set
    still spreads over the corpus."""
    per_doc = [(d.title, kb.chunks(d.doc_id)) for d in kb.documents()]
    for i in range(max((len(c) for _, c in per_doc), default=0)):
        for title, chunks in per_doc:
            if i < len(chunks):
                yield title, chunks[i]


def cloze(chunk: StoredChunk, title: str | None) -> Generated | None:
    """The chunk's first sentence that states a quantity, with the quantity blanked."""
    for start, end in sentences(chunk.text):
        sentence = " ".join(chunk.text[start:end].split())
        if len(sentence.split()) < 6 or _CODE.search(sentence):
            continue
        # A bare one-digit number is usually a list item or a count of no interest.
        match = next(
            (
                m
                for m in _QUANTITY.finditer(sentence)
                if m.start() > 0 and (m["money"] or m["unit"] or len(m.group()) >= 2)
            ),
            None,
        )
        if match is None:
            continue
        blanked = sentence[: match.start()] + "____" + sentence[match.end() :]
        where = " > ".join(chunk.section) or title or chunk.doc_id
        return Generated(
            f'In "{where}": "{blanked}" What goes in the blank?',
            match.group().strip(),
            chunk.doc_id,
            chunk.version,
            chunk.chunk_id,
        )
    return None


def asked(chunk: StoredChunk, title: str | None, generator: Generator) -> Generated | None:
    """A question and answer the LLM writes from the chunk; ``None`` when its answer is not
    in the chunk."""
    source = Source(
        1,
        chunk.doc_id,
        chunk.version,
        title,
        chunk.section,
        chunk.text,
        chunk.char_start,
        chunk.char_end,
        chunk.page_start,
        chunk.page_end,
        (chunk.chunk_id,),
        1.0,
        0.0,
    )
    try:
        reply = json.loads(generator.generate(ASK, [source], schema=SCHEMA).text)
    except (GenerationError, json.JSONDecodeError):
        return None
    question, answer = str(reply.get("question", "")), str(reply.get("answer", ""))
    answer = re.sub(r"\s*\[\d+\]", "", answer).strip()
    if not question.strip() or not answer or answer.lower() not in chunk.text.lower():
        return None
    return Generated(question.strip(), answer, chunk.doc_id, chunk.version, chunk.chunk_id)


def generate_questions(
    kb: KnowledgeBase, n: int = 100, *, llm: str | None = None
) -> list[Generated]:
    """Up to ``n`` questions from the live documents (at most one per chunk)."""
    generator = kb.generator(llm) if llm else None
    found: list[Generated] = []
    seen: set[str] = set()
    for title, chunk in _chunks(kb):
        made = asked(chunk, title, generator) if generator else cloze(chunk, title)
        # The same passage in two documents (a policy and the PDF that bundles it) once.
        key = made.question.split('": "', 1)[-1] if made else ""
        if made is not None and key not in seen:
            seen.add(key)
            found.append(made)
            if len(found) >= n:
                break
    return found
