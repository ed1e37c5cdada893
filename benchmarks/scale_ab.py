"""The scale work's changes to the catalog and the query path, each against its baseline in the
same process, on a knowledge base kept by ``scale.py --keep`` (so a slow or busy machine moves
both alike), and the time to migrate its catalog from schema 1:

    .venv/bin/python benchmarks/scale_ab.py /tmp/verirag-scale/kb-100000 [--runs 3]
                                            [--only-this-round]

- chunk details of 10 random chunks: the statement prebuilt per key count (now) against the
  same SQL built as an expression per call (before), alternated, 600 calls;
- migration: a copy of the catalog turned back into schema 1 (each chunk's text copied into
  ``chunks``, the schema-2 indexes dropped), then opened: the time the migration takes;
- the versions closed since a commit (each index sync asks): by the index on ``valid_to_seq``
  (now) against the same query on a copy of the catalog without that index (before), 20 calls;
- hybrid search (k=10, no re-rank) at the watermark: the validity range's lower bound left out
  (now) against the whole range (before), both asked for each query, each first for half of
  them, ``--runs`` x 100 SciFact test queries; the median time of each stage;
- hybrid search with the dense candidate list (200) rescored once by the originals
  (``rescored_once``) or twice over (``rescored_twice``), the same way.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import DATA, median, percentile
from sqlalchemy import and_, func, or_, select

import verirag.index.qdrant_edge as edge
from verirag import KnowledgeBase
from verirag.evaluation import load_beir
from verirag.retrieval import SearchOptions, Timings
from verirag.store import Catalog
from verirag.store import schema as s

NO_RERANK = SearchOptions(rerank=False)


def details_built_per_call(kb: KnowledgeBase, keys: list[tuple[str, int, int]]) -> int:
    """The statement of chunk_details before it was prebuilt: the same SQL, built per call."""
    v, vc, c = s.versions, s.version_chunks, s.chunks
    text = func.substr(v.c.text, vc.c.char_start + 1, vc.c.char_end - vc.c.char_start)
    query = (
        select(vc, text.label("text"), c.c.n_tokens, v.c.title, v.c.ingested_at, v.c.source_uri)
        .join(c, c.c.chunk_id == vc.c.chunk_id)
        .join(v, (v.c.doc_id == vc.c.doc_id) & (v.c.version == vc.c.version))
        .where(
            or_(
                *(
                    and_(vc.c.doc_id == d, vc.c.version == n, vc.c.ordinal == o)
                    for d, n, o in sorted(set(keys))
                )
            )
        )
    )
    with kb.catalog.engine.connect() as conn:
        return len(conn.execute(query).all())


def details(kb: KnowledgeBase, path: Path) -> dict[str, float]:
    db = sqlite3.connect(f"file:{path / 'catalog.db'}?mode=ro", uri=True)
    keys = db.execute("select doc_id, version, ordinal from version_chunks").fetchall()
    db.close()
    rng = random.Random(1)
    times: dict[str, list[float]] = {"now": [], "before": []}
    for i in range(600):
        wanted = rng.sample(keys, 10)
        arms: list[tuple[str, Any]] = [
            ("now", kb.catalog.chunk_details),
            ("before", lambda keys: details_built_per_call(kb, keys)),
        ]
        for name, call in arms if i % 2 else arms[::-1]:
            start = time.perf_counter()
            call(wanted)
            times[name].append((time.perf_counter() - start) * 1000)
    return {f"details_{k}_ms": round(median(v), 2) for k, v in times.items()}


def migration(path: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "catalog.db"
        shutil.copy(path / "catalog.db", copy)
        db = sqlite3.connect(copy)
        db.execute("alter table chunks add column text text not null default ''")
        db.execute(
            "update chunks set text = (select substr(v.text, vc.char_start + 1, "
            "vc.char_end - vc.char_start) from version_chunks vc join versions v "
            "using (doc_id, version) where vc.chunk_id = chunks.chunk_id limit 1)"
        )
        for name in ("ix_versions_valid_to", "ix_commits_at"):
            db.execute(f"drop index if exists {name}")
        db.execute("update meta set value = '1' where key = 'schema_version'")
        db.commit()
        db.close()
        megabytes = copy.stat().st_size / 2**20
        start = time.perf_counter()
        Catalog.open(copy).close()
        return {
            "migration_catalog_mb": round(megabytes),
            "migration_s": round(time.perf_counter() - start, 2),
        }


def closed_since(path: Path) -> dict[str, float]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "catalog.db"
        shutil.copy(path / "catalog.db", copy)
        for arm in ("now", "before"):
            db = sqlite3.connect(copy)
            if arm == "now":  # a knowledge base built while schema 2 lacked it, too
                db.execute(
                    "create index if not exists ix_versions_valid_to on versions (valid_to_seq)"
                )
            else:
                db.execute("drop index ix_versions_valid_to")
            db.commit()
            db.close()
            catalog = Catalog.open(copy)
            last = catalog.last_seq()
            times = []
            for _ in range(20):
                start = time.perf_counter()
                catalog.closed_since(last - 1)
                times.append((time.perf_counter() - start) * 1000)
            catalog.close()
            out[f"closed_since_{arm}_ms"] = round(median(times), 2)
    return out


def search_ab(kb: KnowledgeBase, runs: int, arms: dict[str, Callable[[], None]]) -> Any:
    """Hybrid search (k=10, no re-rank) at the watermark in each arm, its setup called before
    each of its queries; every query asked in every arm, in an order that rotates (the first
    finds the caches coldest); the median time of each stage."""
    texts = list(load_beir(DATA / "beir_scifact", "test").queries.values())[:100]
    for text in texts[:20]:  # warm-up
        kb.search(text, k=10, options=NO_RERANK)
    names = list(arms)
    times: dict[str, list[float]] = {name: [] for name in names}
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    for run in range(runs):
        for i, text in enumerate(texts):
            turn = (run + i) % len(names)
            for name in names[turn:] + names[:turn]:
                arms[name]()
                timings = Timings()
                start = time.perf_counter()
                ranked = kb.retrieve(
                    text, k=10, scope=kb.scope(), options=NO_RERANK, timings=timings
                )
                kb.retriever.results(ranked)
                times[name].append((time.perf_counter() - start) * 1000)
                for stage, seconds in timings.stages.items():
                    stages[name].setdefault(stage, []).append(seconds * 1000)
    return {
        f"search_{name}": {
            "p50_ms": round(median(times[name]), 1),
            "p95_ms": round(percentile(times[name], 95), 1),
            **{f"{k}_ms": round(median(v), 1) for k, v in stages[name].items()},
        }
        for name in names
    }


def lower_bound(kb: KnowledgeBase, runs: int) -> Any:
    """The validity range's lower bound left out at the watermark (now) or not (before)."""
    index: Any = kb.index
    newest = index._newest_from  # benchmark only: above every scope, it forces the whole range

    def arm(newest_from: int) -> Callable[[], None]:
        return lambda: setattr(index, "_newest_from", newest_from)

    try:
        return search_ab(kb, runs, {"now": arm(newest), "before": arm(2**62)})
    finally:
        index._newest_from = newest


def rescoring(kb: KnowledgeBase, runs: int) -> Any:
    """A fusion candidate list rescored once (now) or twice over (before)."""
    rescored = edge.RESCORED

    def arm(value: int) -> Callable[[], None]:
        # benchmark only: 10**9 rescores every list twice over
        return lambda: setattr(edge, "RESCORED", value)

    try:
        return search_ab(kb, runs, {"rescored_once": arm(rescored), "rescored_twice": arm(10**9)})
    finally:
        edge.RESCORED = rescored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kb", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--only-this-round", action="store_true", help="only the latest change (rescoring)"
    )
    args = parser.parse_args()
    out = {} if args.only_this_round else {**migration(args.kb), **closed_since(args.kb)}
    kb = KnowledgeBase(args.kb)
    if not args.only_this_round:
        out |= {**details(kb, args.kb), **lower_bound(kb, args.runs)}
    out |= rescoring(kb, args.runs)
    kb.close()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
