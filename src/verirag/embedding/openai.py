"""Any OpenAI-compatible ``/embeddings`` endpoint (OpenAI, TEI, vLLM, Infinity, Ollama, llama.cpp
server): batches sent concurrently, at most ``concurrency`` in flight (the back-pressure a
service under load needs), each retried on 429 and 5xx after the ``Retry-After`` it asks for."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np

from verirag._http import post
from verirag.embedding._base import Vectors, normalise


class OpenAIEmbedder:
    def __init__(
        self,
        model: str,
        base_url: str,
        *,
        api_key: str | None = None,
        batch_size: int = 64,
        concurrency: int = 4,
        timeout: float = 60.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        key_env = os.environ.get("VERIRAG_EMBEDDINGS_KEY_ENV", "OPENAI_API_KEY")
        key = api_key if api_key is not None else os.environ.get(key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.model_id = f"openai:{model}@{base_url}"
        self.batch_size = batch_size
        self.concurrency = max(1, concurrency)
        self.retries = retries
        self.dim = len(self._request(["dimension probe"])[0])

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [
            list(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        if len(batches) == 1 or self.concurrency == 1:
            answered = [self._request(batch) for batch in batches]
        else:
            # The pool runs ``concurrency`` requests at a time; the rest wait their turn.
            with ThreadPoolExecutor(min(self.concurrency, len(batches))) as pool:
                answered = list(pool.map(self._request, batches))
        rows = [row for batch in answered for row in batch]
        return normalise(np.asarray(rows, dtype=np.float32))

    def _request(self, texts: list[str]) -> list[list[float]]:
        response = post(
            self.client,
            "/embeddings",
            {"model": self.model, "input": texts},
            retries=self.retries,
            what=f"embeddings endpoint {self.base_url}",
        )
        data = sorted(response.json()["data"], key=lambda item: item["index"])
        return [item["embedding"] for item in data]
