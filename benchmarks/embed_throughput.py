"""Embedding throughput of the pipeline against a bare onnxruntime loop on the same chunks.

    .venv/bin/python benchmarks/embed_throughput.py [--chunks 2000] [--runs 3]

The pipeline is OnnxEmbedder.embed (tokenise, length-sorted batches, mean pooling,
normalisation) plus the cache write; the baseline tokenises the same texts and runs the same
session over batches of 32 in corpus order with mean pooling. Medians over --runs, alternating
them so machine noise hits all; ``ratio`` is pipeline / baseline chunks per second, and
``ratio_vs_sorted`` compares with the bare loop over the same length-sorted batches (the
pipeline's own overhead, without the gain from sorting).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import RESULTS, beir_kb, median

from verirag.embedding import embed_cached
from verirag.embedding.onnx import OnnxEmbedder
from verirag.store import Store


def bare_loop(embedder: OnnxEmbedder, texts: list[str], *, sort: bool = False) -> None:
    encodings = embedder.tokenizer.encode_batch(texts)
    if sort:  # the same length-sorted batches the pipeline makes
        encodings = sorted(encodings, key=lambda e: -len(e.ids))
    for start in range(0, len(texts), 32):
        batch = encodings[start : start + 32]
        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(batch):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        hidden = embedder.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        (hidden * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kb-root", type=Path, default=None)
    args = parser.parse_args()
    kb, _ = beir_kb("beir_scifact", kb_root=args.kb_root)
    texts = [
        f"{r.context}\n{r.text}"
        for _, r in zip(range(args.chunks), kb.catalog.index_rows_since(0), strict=False)
    ]
    embedder = kb.embedder
    assert isinstance(embedder, OnnxEmbedder)
    pipeline: list[float] = []
    bare: list[float] = []
    bare_sorted: list[float] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Store.open(Path(tmp) / "cache.db").vectors
            start = time.perf_counter()
            embed_cached(embedder, cache, texts)
            pipeline.append(len(texts) / (time.perf_counter() - start))
            start = time.perf_counter()
            embed_cached(embedder, cache, texts)  # unchanged text: served from the cache
            cached = len(texts) / (time.perf_counter() - start)
        start = time.perf_counter()
        bare_loop(embedder, texts)
        bare.append(len(texts) / (time.perf_counter() - start))
        start = time.perf_counter()
        bare_loop(embedder, texts, sort=True)
        bare_sorted.append(len(texts) / (time.perf_counter() - start))
    result = {
        "chunks": len(texts),
        "pipeline_chunks_per_s": round(median(pipeline), 1),
        "bare_onnxruntime_chunks_per_s": round(median(bare), 1),
        "ratio": round(median([p / b for p, b in zip(pipeline, bare, strict=True)]), 3),
        "bare_sorted_chunks_per_s": round(median(bare_sorted), 1),
        "ratio_vs_sorted": round(
            median([p / b for p, b in zip(pipeline, bare_sorted, strict=True)]), 3
        ),
        "cached_chunks_per_s": round(cached, 1),
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embed_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    kb.close()


if __name__ == "__main__":
    main()
