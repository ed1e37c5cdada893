"""What Qdrant Edge (qdrant-edge-py, pinned) allows from several threads, on random vectors:
exact-query throughput from 1, 2 and 4 threads; whether a query, an upsert, a flush and an
optimize hold the GIL (the longest gap of a thread that ticks every 0.5 ms while it runs);
queries from another thread during writes and during an optimize. docs/server.md ("What the
embedded engine allows") quotes its figures.

    .venv/bin/python benchmarks/edge_threads.py [--points 20000]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import qdrant_edge as Q

DIM = 384
BATCH = 2000


def points(vectors: np.ndarray, start: int) -> list[Any]:
    return [Q.Point(start + i, {"dense": v.tolist()}, {}) for i, v in enumerate(vectors)]


def filled(vectors: np.ndarray) -> Any:
    config = Q.EdgeConfig(
        vectors={"dense": Q.EdgeVectorParams(size=DIM, distance=Q.Distance.Cosine)}
    )
    shard = Q.EdgeShard.create(tempfile.mkdtemp(), config)
    for start in range(0, len(vectors), BATCH):
        shard.update(Q.UpdateOperation.upsert_points(points(vectors[start : start + BATCH], start)))
    return shard


def query(shard: Any, vector: list[float], exact: bool = True) -> None:
    params = Q.SearchParams(exact=exact)
    shard.query(
        Q.QueryRequest(limit=10, query=Q.Query.Nearest(vector, using="dense"), params=params)
    )


def longest_gap(work: Callable[[], None]) -> tuple[float, float]:
    """(seconds ``work`` took, the longest a 0.5 ms ticker thread waited meanwhile)."""
    gaps: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            time.sleep(0.0005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.05)
    gaps.clear()
    started = time.perf_counter()
    work()
    took = time.perf_counter() - started
    stop.set()
    ticker.join()
    return took, max(gaps, default=took)


def reader_during(
    shard: Any, vector: list[float], work: Callable[[], None]
) -> tuple[int, int, float]:
    """(queries, errors, the slowest query in seconds) from a thread while ``work`` runs."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                query(shard, vector, exact=False)
            except Exception as exc:  # what the binding raises is what we measure
                errors.append(repr(exc))
            latencies.append(time.perf_counter() - started)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.1)
    work()
    stop.set()
    reader.join()
    return len(latencies), len(errors), max(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=20_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((args.points, DIM)).astype(np.float32)
    shard = filled(vectors)
    queries = [rng.standard_normal(DIM).astype(np.float32).tolist() for _ in range(64)]

    for threads in (1, 2, 4):
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda v: query(shard, v), queries))
        print(
            f"exact queries from {threads} thread(s): {64 / (time.perf_counter() - started):.0f}/s"
        )

    took, gap = longest_gap(lambda: [query(shard, v) for v in queries[:16]])
    print(f"query: {1000 * took / 16:.1f} ms each; ticker's longest gap {1000 * gap:.1f} ms")
    more = vectors[:BATCH]
    took, gap = longest_gap(
        lambda: shard.update(Q.UpdateOperation.upsert_points(points(more, args.points)))
    )
    print(f"upsert of {BATCH}: {1000 * took:.0f} ms; longest gap {1000 * gap:.0f} ms")
    took, gap = longest_gap(shard.flush)
    print(f"flush: {1000 * took:.0f} ms; longest gap {1000 * gap:.0f} ms")

    def writes() -> None:
        for round_ in range(5):
            start = args.points + BATCH * (round_ + 1)
            shard.update(Q.UpdateOperation.upsert_points(points(more, start)))
            shard.flush()

    n, errors, slowest = reader_during(shard, queries[0], writes)
    print(f"reader during 5 upserts + flushes: {n} queries, {errors} errors")
    print(f"slowest of them: {1000 * slowest:.0f} ms")
    took, gap = longest_gap(shard.optimize)
    print(f"optimize: {took:.1f} s; longest gap {gap:.1f} s")


if __name__ == "__main__":
    main()
