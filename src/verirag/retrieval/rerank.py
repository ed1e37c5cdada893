"""Re-rankers: score (query, passage) pairs jointly. A sentence-transformers CrossEncoder by
name or path, or verirag's own ONNX cross-encoder (``verirag tune reranker`` makes one)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from verirag.embedding import pad_encodings

Scores = npt.NDArray[np.float32]


class Reranker(Protocol):
    name: str

    def score(self, query: str, passages: Sequence[str]) -> Scores: ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` (needs sentence-transformers and torch)."""

    def __init__(
        self, name_or_path: str, *, max_length: int = 256, device: str | None = None
    ) -> None:
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise RuntimeError(
                "CrossEncoder re-rankers need sentence-transformers: install torch==2.13.0 "
                "first, then `pip install 'verirag[train]'`"
            ) from exc
        self.model: Any = CrossEncoder(
            name_or_path, max_length=max_length, device=device, local_files_only=True
        )
        self.name = f"st:{name_or_path}"

    def score(self, query: str, passages: Sequence[str]) -> Scores:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        raw = self.model.predict([(query, p) for p in passages], show_progress_bar=False)
        return np.asarray(raw, dtype=np.float32).reshape(len(passages), -1)[:, 0]


class OnnxCrossEncoder:
    """A BERT cross-encoder exported to ONNX (int8) with its ``tokenizer.json``; a directory
    holding ``model.onnx``, ``tokenizer.json`` and ``reranker.json`` (max_length)."""

    def __init__(self, directory: str | Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        directory = Path(directory)
        missing = [f for f in ("model.onnx", "tokenizer.json") if not (directory / f).is_file()]
        if missing:
            raise RuntimeError(
                f"{directory} is not a re-ranker (missing {', '.join(missing)}): "
                "make one with `verirag tune reranker`"
            )
        settings: dict[str, Any] = {}
        if (directory / "reranker.json").is_file():
            settings = json.loads((directory / "reranker.json").read_text())
        self.max_length = int(settings.get("max_length", 256))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length, strategy="only_second")
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.name = f"onnx:{directory}"

    def score(self, query: str, passages: Sequence[str]) -> Scores:
        out = np.zeros(len(passages), dtype=np.float32)
        if not passages:
            return out
        # One pair per run: the int8 model quantises activations over its whole input, so
        # in a batch a passage's score would depend on the passages beside it (by up to 0.7
        # on NFCorpus). Unpadded single runs are no slower on CPU (200 ms for 20 passages
        # against 209 batched).
        for i, encoding in enumerate(self.tokenizer.encode_batch([(query, p) for p in passages])):
            feeds = pad_encodings([encoding])
            logits = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
            out[i] = float(np.asarray(logits[0]).reshape(-1)[0])
        return out


def load_reranker(spec: str, *, threads: int | None = None) -> Reranker:
    """``st:NAME_OR_PATH`` for a sentence-transformers CrossEncoder; a directory for an ONNX one."""
    if spec.startswith("st:"):
        return CrossEncoderReranker(spec[3:])
    if Path(spec).is_dir():
        return OnnxCrossEncoder(spec, threads=threads)
    raise ValueError(
        f"no re-ranker at {spec!r}: give a directory made by `verirag tune reranker` or st:NAME"
    )
