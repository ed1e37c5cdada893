"""The default ONNX embedder, the vector cache, and the OpenAI-compatible client against a real
HTTP server on 127.0.0.1 (serving the same ONNX model)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from verirag.embedding import embed_cached, load_embedder
from verirag.embedding.openai import OpenAIEmbedder
from verirag.store import Store

MINILM = load_embedder("minilm")


def test_vectors_are_unit_length_and_meaningful() -> None:
    vectors = MINILM.embed(
        ["Refunds take two weeks.", "Money back within 14 days.", "Deploy at noon."]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.3


def test_batching_and_padding_do_not_change_a_vector() -> None:
    short, long = "refund policy", "a much longer sentence about shipping parcels " * 10
    alone = MINILM.embed([short])[0]
    in_batch = MINILM.embed([long, short, long])[1]
    assert float(alone @ in_batch) > 0.9999


def test_cache_embeds_each_text_once(tmp_path: Path) -> None:
    cache = Store.open(tmp_path / "c.db").vectors
    texts = ["alpha", "beta", "alpha"]
    first, fresh = embed_cached(MINILM, cache, texts)
    assert fresh == 2
    again, fresh = embed_cached(MINILM, cache, ["beta", "alpha", "gamma"])
    assert fresh == 1  # only gamma
    assert np.allclose(again[0], first[1]) and np.allclose(again[1], first[0])


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, object]]] = []
    fail_next = 0
    busy_next = 0  # answer 429 with Retry-After this many times
    in_flight = 0
    most_in_flight = 0
    delay_s = 0.0
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        handler = type(self)
        with handler.lock:
            handler.requests.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), **body}
            )
            handler.in_flight += 1
            handler.most_in_flight = max(handler.most_in_flight, handler.in_flight)
            busy = handler.busy_next > 0
            handler.busy_next -= busy
            failing = handler.fail_next > 0
            handler.fail_next -= failing
        try:
            self._answer(body, busy, failing)
        finally:
            with handler.lock:
                handler.in_flight -= 1

    def _answer(self, body: dict[str, object], busy: bool, failing: bool) -> None:
        if busy:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.end_headers()
            return
        if failing:
            self.send_response(503)
            self.end_headers()
            return
        time.sleep(type(self).delay_s)
        vectors = MINILM.embed(body["input"])  # type: ignore[arg-type]
        data = [
            {"index": i, "embedding": v.tolist()} for i, v in reversed(list(enumerate(vectors)))
        ]
        payload = json.dumps({"data": data, "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _EmbeddingsHandler.requests = []
    _EmbeddingsHandler.most_in_flight = 0
    _EmbeddingsHandler.delay_s = 0.0
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_openai_compatible_endpoint(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    embedder = load_embedder(f"openai:tiny-model@{server}")
    assert embedder.dim == 384 and embedder.model_id == f"openai:tiny-model@{server}"
    texts = [f"text number {i}" for i in range(5)]
    remote = embedder.embed(texts)
    assert np.allclose(remote, MINILM.embed(texts), atol=1e-5)  # order restored by index
    request = _EmbeddingsHandler.requests[-1]
    assert request["path"] == "/v1/embeddings" and request["auth"] == "Bearer sk-test"
    assert request["model"] == "tiny-model"


def test_retries_on_503_then_succeeds(server: str) -> None:
    embedder = OpenAIEmbedder("m", server, api_key="")
    _EmbeddingsHandler.fail_next = 2
    assert embedder.embed(["hello"]).shape == (1, 384)


def test_batches_go_concurrently_with_a_bound_on_requests_in_flight(server: str) -> None:
    embedder = OpenAIEmbedder("m", server, api_key="", batch_size=2, concurrency=3)
    _EmbeddingsHandler.delay_s = 0.2  # a service slower than the client
    texts = [f"passage {i}" for i in range(20)]
    vectors = embedder.embed(texts)
    assert np.allclose(vectors, MINILM.embed(texts), atol=1e-5)  # in order
    assert _EmbeddingsHandler.most_in_flight == 3  # concurrent, never more than asked


def test_a_busy_service_is_waited_for_as_it_asks(server: str) -> None:
    embedder = OpenAIEmbedder("m", server, api_key="")
    _EmbeddingsHandler.busy_next = 1
    started = time.monotonic()
    assert embedder.embed(["hello"]).shape == (1, 384)
    assert time.monotonic() - started >= 1.0  # Retry-After: 1, not the 0.5 s backoff


def test_a_down_endpoint_is_a_clear_error() -> None:
    with pytest.raises(
        RuntimeError, match=re.escape("embeddings endpoint http://127.0.0.1:9/v1 failed")
    ):
        OpenAIEmbedder("m", "http://127.0.0.1:9/v1", retries=1, timeout=2)


def test_unknown_spec() -> None:
    with pytest.raises(ValueError, match="unknown embedder"):
        load_embedder("word2vec")
