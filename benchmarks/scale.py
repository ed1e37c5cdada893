"""A million chunks on one machine: ingest, memory, disk, open, search, recall, version switch
and reindex, measured at growing sizes of one knowledge base.

    .venv/bin/python benchmarks/scale.py [--sizes 100000,300000,1000000] [--root DIR]
                                         [--base-kb DIR] [--runs 3] [--queries 100] [--keep]
    .venv/bin/python benchmarks/scale.py --serve KB   # re-measure serving a kept checkpoint

The knowledge base goes through the real ingest path (parse workers, catalog commits, the
embedding cache, index sync and HNSW build); only the embedder is replaced, because embedding
a million chunks on 2 cores takes hours and this measures everything else. The sizes are
checkpoints of one growing knowledge base: it is built to the first size, measured, grown to
the next, measured again.

Realistic data, stated exactly:
- base: every chunk of the SciFact corpus with its real all-MiniLM-L6-v2 vector, read from the
  embedding cache of an evaluation knowledge base (``--base-kb``; made by
  ``benchmarks/retrieval.py`` or on first use here);
- text: each synthetic document has 10 sections; a section is a random run of 2-5 sentences of
  one base chunk ``j`` followed by one sentence of another base chunk ``k`` (real sentences, so
  BM25 statistics are those of real text), and 1 in 10 documents is readable by ``eng`` only,
  1 in 10 by ``hr`` only, each with one of 20 tags;
- vector of a section: ``normalise(B[j] + 0.5 * B[k] + z)``, ``B`` the base vectors and ``z``
  Gaussian with standard deviation ``0.2 / sqrt(384)`` per dimension, seeded by the text's hash
  (distinct, deterministic, and on MiniLM's distribution: mixtures of real vectors);
- queries: SciFact test queries embedded by the real MiniLM (the serving process opens the
  knowledge base with the default embedder; the synthetic one shares its model id).

Per size, in a fresh serving process: open time with nothing to reconcile, RSS after warm-up,
hybrid ``search`` p50/p95 (k=10, no re-rank; plain, with a metadata filter, with an access
filter; medians over ``--runs`` runs), ANN recall@10 of the index's dense search against exact
search over the same vectors and filter, the latency of switching one document to a new
version (one changed section, embedded by MiniLM, searchable when it returns), ``reindex``;
and from the builder: ingest rate (chunks/s, catalog + index, the synthetic embedder's time
excluded), the builder's RSS per checkpoint, disk per chunk (catalog, index).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, RESULTS, ROOT, median, percentile
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from verirag import KnowledgeBase, TextRecord
from verirag.embedding import normalise
from verirag.evaluation import load_beir
from verirag.retrieval import SearchOptions
from verirag.store.vectors import text_key
from verirag.text import sentences as sentence_spans

SECTIONS = 10
NOISE = 0.2
MIX = 0.5
# About 50,000 chunks a batch: the knowledge base builds the index at each batch's end, so this
# is one build per OPTIMIZE_EVERY chunks, as one long batch would do.
BATCH_DOCS = 5000
NO_RERANK = SearchOptions(rerank=False)


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def rss_mb(kind: str = "VmRSS") -> float:
    """Resident memory; ``RssAnon`` is the process's own, ``RssFile`` the memory-mapped files'
    pages it touched (page cache, which the kernel reclaims under pressure)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def disk_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# -- the base: real chunks and their real vectors ---------------------------------------


class Base:
    """Real SciFact chunks (their sentences) and their MiniLM vectors."""

    def __init__(self, kb_dir: Path) -> None:
        db = sqlite3.connect(f"file:{kb_dir / 'catalog.db'}?mode=ro", uri=True)
        model_id = json.loads((kb_dir / "verirag.json").read_text()).get("embedder", "minilm")
        rows = db.execute(
            "select vc.context, substr(v.text, vc.char_start + 1, vc.char_end - vc.char_start) "
            "from version_chunks vc join versions v using (doc_id, version)"
        ).fetchall()
        cache = dict(db.execute("select key, vector from embedding_cache").fetchall())
        models = {m for (m,) in db.execute("select distinct model from embedding_cache")}
        db.close()
        self.model_id = next(iter(models)) if len(models) == 1 else model_id
        texts, vectors = [], []
        for context, text in rows:
            blob = cache.get(text_key(f"{context}\n{text}"))
            said = [s for s in sentences(text) if len(s) > 20]
            if blob is not None and len(said) >= 3:
                texts.append(said)
                vectors.append(np.frombuffer(blob, dtype=np.float32))
        self.sentences = texts
        self.vectors = np.stack(vectors)
        self.owner = {s: j for j, said in enumerate(texts) for s in said}


class SyntheticEmbedder:
    """The section's vector from the base chunks its sentences come from (module docstring)."""

    def __init__(self, base: Base) -> None:
        self.base = base
        self.model_id = base.model_id
        self.dim = int(base.vectors.shape[1])
        self.seconds = 0.0

    def embed(self, texts: Sequence[str]) -> Any:
        start = time.perf_counter()
        rows = []
        for text in texts:
            found = [self.base.owner[s] for s in sentences(text) if s in self.base.owner]
            j, k = (found[0], found[-1]) if found else (0, 0)
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
            noise = np.random.default_rng(seed).normal(0, NOISE / np.sqrt(self.dim), self.dim)
            rows.append(self.base.vectors[j] + MIX * self.base.vectors[k] + noise)
        out = normalise(np.asarray(rows, dtype=np.float32))
        self.seconds += time.perf_counter() - start
        return out


def section(base: Base, rng: random.Random) -> str:
    j, k = rng.randrange(len(base.sentences)), rng.randrange(len(base.sentences))
    said = base.sentences[j]
    length = rng.randint(2, min(5, len(said)))
    start = rng.randrange(len(said) - length + 1)
    return " ".join([*said[start : start + length], rng.choice(base.sentences[k])])


def document(base: Base, n: int, version: int = 1) -> TextRecord:
    rng = random.Random(n * 1_000_003 + version)
    parts = [f"# Report {n}"]
    for s in range(SECTIONS):
        words = rng.choice(base.sentences[rng.randrange(len(base.sentences))]).split()
        heading = " ".join(words[:4])
        parts.append(f"## {s + 1}. {heading}\n\n{section(base, rng)}")
    access = ["eng"] if n % 10 == 1 else ["hr"] if n % 10 == 2 else ["public"]
    return TextRecord(
        f"reports/{n:07d}.md",
        "\n\n".join(parts),
        format="md",
        access=access,
        metadata={"tags": [f"t{n % 20}"]},
    )


# -- building ---------------------------------------------------------------------------


def grow(path: Path, base: Base, start_doc: int, size: int) -> dict[str, Any]:
    """Ingest documents from ``start_doc`` on until the knowledge base holds ``size`` chunks,
    in batches of ``BATCH_DOCS`` documents, the index built as the knowledge base builds it
    (every ``OPTIMIZE_EVERY`` chunks of a long batch and at a batch's end)."""
    embedder = SyntheticEmbedder(base)
    kb = KnowledgeBase(path, embedder=embedder)
    index = kb.index
    building = 0.0
    build = index.optimize

    def timed_build() -> None:
        nonlocal building
        start = time.perf_counter()
        build()
        building += time.perf_counter() - start

    index.optimize = timed_build  # type: ignore[method-assign]
    chunks = before = kb_chunks(path)
    n = start_doc
    started = time.perf_counter()
    rss = []
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task(f"to {size:,} chunks", total=size, completed=chunks)

        def advance(outcome: Any, done: int, total: int) -> None:
            bar.update(task, advance=outcome.n_chunks)

        while chunks < size:
            want = max(1, min(BATCH_DOCS, (size - chunks) // SECTIONS))
            records = (document(base, i) for i in range(n, n + want))
            report = kb.ingest_texts(records, on_progress=advance)
            n += want
            chunks += sum(o.n_chunks for o in report.outcomes)
            rss.append((rss_mb(), rss_mb("RssAnon")))
    kb.close()
    seconds = time.perf_counter() - started - embedder.seconds
    return {
        "next_doc": n,
        "chunks_before": before,
        "chunks": chunks,
        "ingest_seconds": round(seconds, 1),
        "optimize_seconds": round(building, 1),
        "synthetic_embed_seconds": round(embedder.seconds, 1),
        # After each batch: (all, anonymous); file-backed pages are the page cache's.
        "builder_rss_mb_first_last_max": [[round(m) for m in rss[i]] for i in (0, -1)]
        + [[round(max(m[j] for m in rss)) for j in (0, 1)]]
        if rss
        else [],
    }


def kb_documents(path: Path) -> int:
    if not (path / "catalog.db").is_file():
        return 0
    db = sqlite3.connect(f"file:{path / 'catalog.db'}?mode=ro", uri=True)
    try:
        return int(db.execute("select count(*) from documents").fetchone()[0])
    finally:
        db.close()


def kb_chunks(path: Path) -> int:
    if not (path / "catalog.db").is_file():
        return 0
    db = sqlite3.connect(f"file:{path / 'catalog.db'}?mode=ro", uri=True)
    try:
        query = (
            "select count(*) from version_chunks vc join versions v using (doc_id, version) "
            "where v.valid_to_seq is null"
        )
        return int(db.execute(query).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


# -- serving (a fresh process) ----------------------------------------------------------


def serve(path: Path, base_kb: Path, runs: int, queries: int, doc: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    texts = list(load_beir(DATA / "beir_scifact", "test").queries.values())[:queries]
    start = time.perf_counter()
    kb = KnowledgeBase(path)
    kb.embedder  # noqa: B018  (the model load is not the knowledge base's open)
    loaded = time.perf_counter()
    out["rss_before_index_mb"] = round(rss_mb())  # Python, torch and the model
    out["rss_anon_before_index_mb"] = round(rss_mb("RssAnon"))
    kb.index  # noqa: B018
    out["open_s"] = round(time.perf_counter() - loaded, 3)
    out["open_with_model_s"] = round(time.perf_counter() - start, 3)
    for text in texts[:20]:  # warm-up
        kb.search(text, k=10, options=NO_RERANK)
    out["rss_mb"] = round(rss_mb())
    out["rss_anon_mb"] = round(rss_mb("RssAnon"))
    out["rss_file_mb"] = round(rss_mb("RssFile"))
    filters: dict[str, dict[str, Any]] = {
        "plain": {},
        "metadata": {"metadata": {"tags": "t3"}},
        "access": {"groups": ["eng"]},
    }
    for name, extra in filters.items():
        p50s, p95s = [], []
        for _ in range(runs):
            times = []
            for text in texts:
                t = time.perf_counter()
                kb.search(text, k=10, options=NO_RERANK, **extra)
                times.append((time.perf_counter() - t) * 1000)
            p50s.append(median(times))
            p95s.append(percentile(times, 95))
        out[f"search_{name}_p50_ms"] = round(median(p50s), 1)
        out[f"search_{name}_p95_ms"] = round(median(p95s), 1)
    vectors = kb.embedder.embed(texts)
    scope = kb.scope()
    hits = 0
    for vector in vectors:
        truth = {h.chunk_id for h in kb.index.dense(vector, 10, scope, exact=True)}
        hits += len(truth & {h.chunk_id for h in kb.index.dense(vector, 10, scope)})
    out["recall_at_10"] = round(hits / (10 * len(vectors)), 4)
    # One document switches to a new version: one section changed, the rest from the cache.
    base = Base(base_kb)
    record = document(base, doc)
    changed = record.text.rsplit("\n\n", 1)[0] + "\n\n" + section(base, random.Random(-doc))
    switches = []
    for attempt in range(runs):
        text = changed if attempt % 2 == 0 else record.text
        t = time.perf_counter()
        kb.ingest_texts([TextRecord(record.doc_id, text, format="md", access=record.access)])
        switches.append(time.perf_counter() - t)
    out["version_switch_s"] = round(median(switches), 3)
    out["rss_after_mb"] = round(rss_mb())
    kb.close()
    return out


def reindex_seconds(path: Path) -> float:
    kb = KnowledgeBase(path)
    start = time.perf_counter()
    kb.reindex()
    seconds = time.perf_counter() - start
    kb.close()
    return round(seconds, 1)


def measure(path: Path, base_kb: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--serve", str(path), "--base-kb", str(base_kb)]
    cmd += ["--runs", str(args.runs), "--queries", str(args.queries)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--root", type=Path, default=Path("/tmp/verirag-scale"))
    parser.add_argument("--base-kb", type=Path, default=ROOT / ".verirag-eval" / "beir_scifact")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--reindex-up-to", type=int, default=10**9, help="time `reindex` at sizes up to this"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument(
        "--resume", action="store_true", help="grow the knowledge base left in --root"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep a copy of each checkpoint as ROOT/kb-SIZE"
    )
    parser.add_argument(
        "--serve", type=Path, metavar="KB", help="only measure serving the knowledge base at KB"
    )
    args = parser.parse_args()
    if args.serve:
        print(json.dumps(serve(args.serve, args.base_kb, args.runs, args.queries, doc=7)))
        return
    if not (args.base_kb / "catalog.db").is_file():
        from _common import beir_kb

        beir_kb("beir_scifact")[0].close()
    base = Base(args.base_kb)
    print(f"base: {len(base.sentences)} real chunks with MiniLM vectors from {args.base_kb}")
    path = args.root / "kb"
    if not args.resume:
        shutil.rmtree(path, ignore_errors=True)
    rows: list[dict[str, Any]] = []
    next_doc = kb_documents(path)
    for size in (int(s) for s in args.sizes.split(",")):
        built = grow(path, base, next_doc, size)
        grown = built["chunks"] - built.pop("chunks_before")
        built["ingest_chunks_per_s"] = round(grown / built["ingest_seconds"])
        building = built["ingest_seconds"] - built["optimize_seconds"]
        built["ingest_chunks_per_s_without_build"] = round(grown / building)
        next_doc = built.pop("next_doc")
        row = {"size": size, **built, **measure(path, args.base_kb, args)}
        catalog = sum(disk_mb(p) for p in path.glob("catalog.db*"))
        row["catalog_bytes_per_chunk"] = round(catalog * 2**20 / row["chunks"])
        row["index_bytes_per_chunk"] = round(disk_mb(path / "index") * 2**20 / row["chunks"])
        if args.keep and size != int(args.sizes.split(",")[-1]):
            shutil.rmtree(args.root / f"kb-{size}", ignore_errors=True)
            shutil.copytree(path, args.root / f"kb-{size}")
        if size <= args.reindex_up_to:
            row["reindex_s"] = reindex_seconds(path)
        rows.append(row)
        print(json.dumps(row), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"rows": rows}, indent=2) + "\n")  # so far
    first, last = rows[0], rows[-1]
    if len(rows) > 1:
        growth = {
            key: round(last[key] / first[key], 2)
            for key in ("search_plain_p50_ms", "search_plain_p95_ms", "rss_mb", "open_s")
            if first.get(key)
        }
        growth["chunks"] = round(last["chunks"] / first["chunks"], 2)
        print("growth from first to last size:", json.dumps(growth))
    else:
        growth = {}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "growth": growth}, indent=2) + "\n")


if __name__ == "__main__":
    main()
