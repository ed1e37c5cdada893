"""Text primitives every stage shares: the tokenizer, sentences, content terms."""

from verirag.text.diff import unified_diff
from verirag.text.sentences import line_spans, replaced, sentence_spans, sentences
from verirag.text.terms import (
    STOPWORDS,
    anchors,
    code_tokens,
    fold,
    names,
    numbers,
    terms,
    words,
)
from verirag.text.tokenizer import (
    MINILM_TOKENIZER,
    SPECIAL_TOKENS,
    HFTokenizer,
    TokenCounter,
    load_tokenizer,
    minilm_tokenizer_path,
    vocabulary,
)

__all__ = [
    "MINILM_TOKENIZER",
    "SPECIAL_TOKENS",
    "STOPWORDS",
    "HFTokenizer",
    "TokenCounter",
    "anchors",
    "code_tokens",
    "fold",
    "line_spans",
    "load_tokenizer",
    "minilm_tokenizer_path",
    "names",
    "numbers",
    "replaced",
    "sentence_spans",
    "sentences",
    "terms",
    "unified_diff",
    "vocabulary",
    "words",
]
