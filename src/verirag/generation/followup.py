"""A follow-up question made standalone from the turns before it, so retrieval reads what the
user means: "What does it cost?" after "Tell me about the parental leave policy" searches
for the parental leave policy's cost.

Without a language model the earlier turns' subject terms are carried over when the question
leans on them (a pronoun, "the same", or too few words of its own to search by); with one
(:class:`Rewriter`) the model rewrites it. Either way the rewrite is shown and audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from verirag.generation._base import GenerationError
from verirag.text.terms import STOPWORDS, WORD, terms

# Words that point back at an earlier turn's subject.
REFERRING = frozenset(
    [
        "it",
        "its",
        "it's",
        "they",
        "them",
        "their",
        "theirs",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "him",
        "her",
        "his",
        "there",
        "one",
        "ones",
        "same",
        "such",
        "former",
        "latter",
        "else",
        "also",
        "too",
    ]
)
# Question and filler words: never a subject worth carrying.
FILLER = (
    STOPWORDS
    | REFERRING
    | frozenset(
        [
            "how",
            "when",
            "where",
            "who",
            "whom",
            "whose",
            "why",
            "can",
            "could",
            "should",
            "would",
            "will",
            "shall",
            "may",
            "might",
            "must",
            "i",
            "me",
            "my",
            "we",
            "our",
            "you",
            "your",
            "about",
            "tell",
            "say",
            "says",
            "said",
            "mean",
            "means",
            "please",
            "more",
            "other",
            "any",
            "some",
            "much",
            "many",
            "there",
            "here",
            "have",
            "has",
            "had",
            "get",
            "got",
            "give",
            "gives",
            "apply",
            "applies",
        ]
    )
)
OWN_TERMS = 2  # a question with fewer content terms than this cannot be searched alone


class Followup(NamedTuple):
    """What was asked, what is searched and answered, and how it was made (``as asked``,
    ``carried terms`` or the model's id)."""

    asked: str
    query: str
    method: str


@runtime_checkable
class Rewriter(Protocol):
    """A generator that can rewrite a follow-up as a standalone question."""

    def rewrite(self, question: str, earlier: Sequence[str]) -> str: ...


def standalone(question: str, earlier: Sequence[str], rewriter: object | None = None) -> Followup:
    """``question`` made standalone from ``earlier`` user turns (oldest first). A model that
    fails to rewrite (or writes nothing) leaves the carried-terms rewrite."""
    if not earlier:
        return Followup(question, question, "as asked")
    if isinstance(rewriter, Rewriter):
        try:
            written = " ".join(rewriter.rewrite(question, earlier).split())
        except GenerationError:
            written = ""
        if written:
            model = str(getattr(rewriter, "model_id", "model"))
            return Followup(question, written, model)
    previous = earlier[0]
    for turn in earlier[1:]:  # each turn made standalone from the one before
        previous = carried(turn, previous)
    query = carried(question, previous)
    return Followup(question, query, "as asked" if query == question else "carried terms")


def carried(question: str, previous: str) -> str:
    """``question`` with ``previous``'s subject words after it, when it leans on them."""
    words = [w.lower() for w in WORD.findall(question)]
    own = [w for w in words if w not in FILLER and not w.isdigit()]
    if not (REFERRING & set(words)) and len(terms(" ".join(own))) >= OWN_TERMS:
        return question
    have = set(terms(question))
    subject: list[str] = []
    for word in WORD.findall(previous):
        if word.lower() in FILLER or word.isdigit() or word in subject:
            continue
        if not set(terms(word)) <= have:
            subject.append(word)
    if not subject:
        return question
    return f"{question.rstrip()} ({' '.join(subject)})"


def rewrite_prompt(question: str, earlier: Sequence[str]) -> list[dict[str, str]]:
    """The chat messages asking a model to rewrite a follow-up as a standalone question."""
    turns = "\n".join("- " + " ".join(t.split()) for t in earlier)
    return [
        {
            "role": "system",
            "content": "Rewrite the user's last question so that it can be understood without "
            "the conversation: replace pronouns and references with what they refer to. Keep "
            "its meaning and language; do not answer it. Reply with the question only.",
        },
        {
            "role": "user",
            "content": f"Earlier questions:\n{turns}\n\nLast question: {question.strip()}",
        },
    ]
