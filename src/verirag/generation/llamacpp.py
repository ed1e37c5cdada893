"""A local GGUF model run by llama.cpp (the ``xllamacpp`` wheel, the ``[llm]`` extra).

The model is served by llama.cpp's own server inside this process, bound to 127.0.0.1 on a
free port, and spoken to through :class:`OpenAIChat` — so streaming, JSON-Schema output
(llama.cpp compiles the schema to a grammar) and errors behave exactly as with a remote
endpoint. A plain answer is held to the cited-sentence format by a grammar
(:func:`verirag.generation.prompt.citation_grammar`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from verirag.errors import InvalidInput
from verirag.generation._base import Generation, GenerationError, Source, TokenSink
from verirag.generation.openai_chat import OpenAIChat

log = logging.getLogger(__name__)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LlamaCpp:
    def __init__(
        self,
        path: str | Path,
        *,
        sha256: str | None = None,
        threads: int | None = None,
        n_ctx: int = 4096,
        max_tokens: int = 512,
        grammar: bool = True,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InvalidInput(f"GGUF model not found: {self.path}")
        if sha256 is not None and sha256_of(self.path) != sha256.lower():
            raise InvalidInput(f"{self.path} does not match sha256 {sha256}: refusing to load it")
        try:
            import xllamacpp
        except ImportError as exc:
            raise RuntimeError(
                "local GGUF models need llama.cpp: pip install 'verirag[llm]' (xllamacpp)"
            ) from exc
        params = xllamacpp.CommonParams()
        params.model.path = str(self.path)
        params.n_ctx = n_ctx
        # llama.cpp's own log (some 20 lines a question) only when verirag's debug log is on
        # (``verirag --verbose``); its failures reach us as errors either way.
        params.verbosity = 3 if log.isEnabledFor(logging.DEBUG) else 0
        params.hostnames = ["127.0.0.1"]
        params.port = free_port()
        # One core stays free for readers: a served knowledge base keeps searching while
        # the model writes (benchmarks/concurrency.py).
        threads = threads or max(1, (os.cpu_count() or 2) - 1)
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        self._server = xllamacpp.Server(params)
        url = f"http://127.0.0.1:{params.port}/v1"
        _wait_ready(url)
        self.model_id = f"gguf:{self.path.name}"
        # The prompt must leave room for the answer inside the model's window.
        self._chat = OpenAIChat(
            self.path.name,
            url,
            max_tokens=max_tokens,
            context_tokens=max(256, n_ctx - max_tokens - 512),
            grammar=grammar,
        )
        self.context_tokens = self._chat.context_tokens

    @classmethod
    def from_spec(cls, spec: str, threads: int | None = None) -> LlamaCpp:
        """``gguf:PATH`` or ``gguf:PATH#sha256=HEX``."""
        path, _, fragment = spec.removeprefix("gguf:").partition("#")
        sha = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        return cls(path, sha256=sha, threads=threads)

    def generate(
        self,
        question: str,
        sources: Sequence[Source],
        *,
        schema: dict[str, Any] | None = None,
        on_token: TokenSink | None = None,
    ) -> Generation:
        generation = self._chat.generate(question, sources, schema=schema, on_token=on_token)
        generation.model = self.model_id
        return generation

    def rewrite(self, question: str, earlier: Sequence[str]) -> str:
        """``question`` rewritten as a standalone question from the ``earlier`` ones."""
        return self._chat.rewrite(question, earlier)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise GenerationError(f"llama.cpp did not come up at {url} within {timeout:.0f} s")
