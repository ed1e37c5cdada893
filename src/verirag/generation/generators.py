"""Generators by spec string: extractive (the default, no model), OpenAI-compatible, GGUF."""

from __future__ import annotations

from verirag.embedding import Embedder
from verirag.generation._base import Generator
from verirag.generation.extractive import ExtractiveGenerator
from verirag.retrieval import Reranker


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
