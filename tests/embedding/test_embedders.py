"""The default ONNX embedder, the vector cache, and the OpenAI-compatible client against a real
HTTP server on 127.0.0.1 (serving the same ONNX model)."""

from __future__ import annotations

import json
import re
import threading
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

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), **body}
        )
        if type(self).fail_next > 0:
            type(self).fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        vectors = MINILM.embed(body["input"])
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


def test_a_down_endpoint_is_a_clear_error() -> None:
    with pytest.raises(
        RuntimeError, match=re.escape("embeddings endpoint http://127.0.0.1:9/v1 failed")
    ):
        OpenAIEmbedder("m", "http://127.0.0.1:9/v1", retries=1, timeout=2)


def test_unknown_spec() -> None:
    with pytest.raises(ValueError, match="unknown embedder"):
        load_embedder("word2vec")
