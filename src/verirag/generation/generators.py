"""Generators by spec string: extractive (the default, no model), OpenAI-compatible, GGUF."""

from __future__ import annotations

import threading
from collections.abc import Callable

from verirag.embedding import Embedder
from verirag.generation._base import Generator
from verirag.generation.extractive import ExtractiveGenerator
from verirag.retrieval import Reranker, load_reranker


def load_generator(
    spec: str,
    embedder: Embedder,
    *,
    threads: int | None = None,
    scorer: Reranker | None = None,
) -> Generator:
    """``extractive`` (default; ``scorer`` is its optional trained sentence scorer),
    ``openai:MODEL@BASE_URL`` or ``gguf:PATH[#sha256=HEX]``."""
    if spec == "extractive":
        return ExtractiveGenerator(embedder, scorer=scorer)
    if spec.startswith("openai:"):
        from verirag.generation.openai_chat import OpenAIChat

        return OpenAIChat.from_spec(spec)
    if spec.startswith("gguf:"):
        from verirag.generation.llamacpp import LlamaCpp

        return LlamaCpp.from_spec(spec, threads=threads)
    raise ValueError(
        f"unknown generator {spec!r}: use extractive, openai:MODEL@BASE_URL or gguf:PATH"
    )


class Generators:
    """Generators by spec, each loaded once. ``default`` answers ``get()``: a spec, or a
    generator passed in. The extractive generator gets the ``sentence_scorer`` model, when
    one is configured, and embeds with ``embedder()`` (called once, on first use)."""

    def __init__(
        self,
        default: str | Generator,
        embedder: Callable[[], Embedder],
        *,
        threads: int | None = None,
        sentence_scorer: str | None = None,
    ) -> None:
        self.default = default
        self.embedder = embedder
        self.threads = threads
        self.sentence_scorer = sentence_scorer
        self._loaded: dict[str, Generator] = {}
        self._loading = threading.Lock()  # concurrent requests load a model once

    def get(self, spec: str | None = None) -> Generator:
        if spec is None and not isinstance(self.default, str):
            return self.default
        spec = spec or str(self.default)
        with self._loading:
            return self._loaded.get(spec) or self._load(spec)

    def _load(self, spec: str) -> Generator:
        if spec not in self._loaded:
            scorer = (
                load_reranker(self.sentence_scorer, threads=self.threads)
                if self.sentence_scorer and spec == "extractive"
                else None
            )
            self._loaded[spec] = load_generator(
                spec, self.embedder(), threads=self.threads, scorer=scorer
            )
        return self._loaded[spec]
