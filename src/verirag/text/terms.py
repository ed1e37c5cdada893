"""Content terms: folded, stemmed words without stop words, names, numbers, years."""

from __future__ import annotations

import re
import unicodedata

import Stemmer

_STEMMER = Stemmer.Stemmer("english")
WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "as",
        "into",
        "about",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "i",
        "you",
        "we",
        "our",
        "your",
        "my",
        "me",
        "not",
        "no",
        "yes",
        "can",
        "could",
        "would",
        "should",
        "will",
        "may",
        "might",
        "has",
        "have",
        "had",
        "if",
        "so",
        "such",
        "any",
        "all",
        "each",
        "other",
        "also",
        "more",
        "most",
        "much",
        "many",
        "very",
        "just",
        "per",
        "during",
    ]
)


def fold(text: str) -> str:
    """Lower case without accents ("Plíšková" -> "pliskova"), as the BM25 index folds text: a
    name a model writes without its accents is the same name."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """Folded, stemmed words without stop words."""
    # Stop words are dropped as written and as stemmed ("does" stems to "doe").
    words = [w for w in WORD.findall(fold(text)) if w not in STOPWORDS]
    return [t for t in _STEMMER.stemWords(words) if t not in STOPWORDS]


_CAPITALISED = re.compile(r"\b[A-Z]\w*\b")
NUMBER = re.compile(r"\b\d[\d,.]*\b")
YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
ORDINAL = re.compile(r"\b\d+(?:st|nd|rd|th)\b", re.I)


def anchors(text: str) -> tuple[set[str], set[str]]:
    """The years and the ordinals ("93rd") a text names: what pins a question to one event."""
    return set(YEAR.findall(text)), {m.lower() for m in ORDINAL.findall(text)}


def names(text: str) -> set[str]:
    """Capitalised words inside a sentence (not its first word): usually names."""
    first = WORD.findall(text)[:1]  # capitalised only because it starts the sentence
    return {m.group() for m in _CAPITALISED.finditer(text)} - set(first)


# Tokens that mean what they say only as written: options (-A is not -a, --after-context) and
# identifiers (ffi_prep_cif, highWaterMark, LIBFFI_TMPDIR).
CODE_TOKEN = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*(?<!-)|\b[A-Za-z]\w*_\w+\b|\b[a-z]+[A-Z]\w*\b")


def code_tokens(text: str) -> set[str]:
    """Option-like and code-like tokens of ``text``, case kept (:data:`CODE_TOKEN`)."""
    return set(CODE_TOKEN.findall(text))


def words(text: str) -> set[str]:
    """Every word, folded."""
    return set(WORD.findall(fold(text)))


def numbers(text: str) -> set[str]:
    """Numbers as written, without thousands separators or a trailing full stop."""
    return {m.group().replace(",", "").rstrip(".") for m in NUMBER.finditer(text)}
