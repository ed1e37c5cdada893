"""HTTP search throughput: requests/s and p50/p95 latency of ``POST /api/search`` with 8
concurrent clients on the sample corpus, against a real ``verirag serve`` on 127.0.0.1.

    .venv/bin/python benchmarks/serve.py [--clients 8] [--requests 400] [--runs 3]

Baseline, measured in the same run: the same queries through ``KnowledgeBase.search`` in
process, one at a time. The ratio (server requests/s over in-process queries/s) is what the
HTTP layer, JSON and the concurrency it allows cost or gain; on a shared machine the ratio
moves far less than either figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _common import RESULTS, ROOT, median, percentile

from verirag import KnowledgeBase

sys.path.insert(0, str(ROOT))  # the tests' server helpers start and stop it the same way
from tests.server.conftest import start, stop

QUERIES = [
    "how many days do I have to return an item?",
    "refund to the original payment method",
    "shipping costs for international orders",
    "how long does standard delivery take",
    "which stores are open on Sunday",
    "can I return sale items",
    "parental leave policy",
    "how many vacation days do employees get",
    "expense reimbursement deadline",
    "how do we deploy to production",
    "code review rules",
    "store phone number in Portland",
    "gift wrapping",
    "damaged item on arrival",
    "exchange for a different size",
    "remote work policy",
]


def in_process(path: Path, n: int) -> list[float]:
    with KnowledgeBase(path) as kb:
        for q in QUERIES:  # warm: models loaded, query paths compiled
            kb.search(q, k=10)
        took = []
        for i in range(n):
            started = time.perf_counter()
            kb.search(QUERIES[i % len(QUERIES)], k=10)
            took.append(time.perf_counter() - started)
    return took


def over_http(url: str, clients: int, n: int) -> tuple[float, list[float]]:
    def worker(offset: int) -> list[float]:
        took = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(offset, n, clients):
                started = time.perf_counter()
                response = client.post("/api/search", json={"query": QUERIES[i % len(QUERIES)]})
                response.raise_for_status()
                took.append(time.perf_counter() - started)
        return took

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [t for part in pool.map(worker, range(clients)) for t in part]
    return n / (time.perf_counter() - started), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "serve.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kb"
        with KnowledgeBase(path) as kb:
            kb.ingest(ROOT / "sample" / "v1")
        rows = []
        for run in range(args.runs):
            base = in_process(path, args.requests // 2)
            process, url, _ = start(path)
            try:
                over_http(url, args.clients, 2 * args.clients)  # warm
                rate, latencies = over_http(url, args.clients, args.requests)
            finally:
                stop(process)
            row = {
                "run": run,
                "requests_per_s": rate,
                "p50_ms": 1000 * median(latencies),
                "p95_ms": 1000 * percentile(latencies, 0.95),
                "in_process_per_s": 1 / median(base),
                "in_process_p50_ms": 1000 * median(base),
            }
            row["ratio"] = row["requests_per_s"] / row["in_process_per_s"]
            rows.append(row)
            print(
                f"run {run}: {rate:.0f} req/s, p50 {row['p50_ms']:.1f} ms, "
                f"p95 {row['p95_ms']:.1f} ms; in process {row['in_process_per_s']:.0f} q/s "
                f"(ratio {row['ratio']:.2f})"
            )
    summary = {
        key: median([r[key] for r in rows])
        for key in ("requests_per_s", "p50_ms", "p95_ms", "in_process_per_s", "ratio")
    }
    summary |= {"clients": args.clients, "requests": args.requests, "runs": args.runs}
    print(
        f"median of {args.runs}: {summary['requests_per_s']:.0f} req/s with {args.clients} "
        f"clients, p50 {summary['p50_ms']:.1f} ms, p95 {summary['p95_ms']:.1f} ms; "
        f"{summary['ratio']:.2f} x in-process search"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
