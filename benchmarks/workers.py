"""Search throughput of ``verirag serve --workers 2`` against one process, on the cluster
profile (catalog on PostgreSQL), against real servers on 127.0.0.1 (issue 22).

    .venv/bin/python benchmarks/workers.py [--runs 3] [--docs 1000] [--requests 400]

A PostgreSQL server of its own (tests/postgres.py), a knowledge base of the sample and
``--docs`` SciFact abstracts with its catalog there, then per run, in alternating order: one
process (``serve``) and two (``serve --workers 2``, each with its own index replica), each
warmed, then ``--requests`` searches from 8 client threads, twice: each client keeping one
connection open (``keep_alive``), and opening one per request (``per_request``). uvicorn's
processes share one listening socket, so the kernel deals out connections, not requests:
with 8 long-lived connections one process can hold 6 of them. A load balancer in front
spreads requests, which the second mode stands for. The ratio is taken within each run; the
summary is the median of the runs. Target: 2 processes / 1 >= 1.5, no errors. Each arm also
reports the cores kept busy (CPU seconds / wall seconds, from /proc) by the server's
processes, PostgreSQL, the client threads and the whole machine, and with two processes the
busiest one's share of their CPU (0.5 is an even split).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DATA, RESULTS, ROOT, median
from concurrency import Tally, searches

from verirag import Config, KnowledgeBase
from verirag.evaluation import load_beir

sys.path.insert(0, str(ROOT))
from tests import postgres
from tests.server.conftest import start, stop

CLIENTS = 8
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: int) -> dict[str, float]:
    """CPU seconds used so far by the server's process tree, by PostgreSQL, by this process
    (the clients) and by the whole machine (from /proc)."""
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    names: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended meanwhile
        pid = int(stat.parent.name)
        names[pid] = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        parent[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def under(pid: int) -> bool:
        while pid > 1:
            if pid == server:
                return True
            pid = parent.get(pid, 0)
        return False

    # each API process's own share (direct children of the supervisor), to see the balance
    children = {pid: s for pid, s in used.items() if parent.get(pid) == server}
    machine = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(v) for v in machine) - int(machine[3]) - int(machine[4])  # idle, iowait
    return {
        "server": sum(s for pid, s in used.items() if under(pid)),
        "postgres": sum(s for pid, s in used.items() if names[pid] == "postgres"),
        "clients": used.get(os.getpid(), 0.0),
        "machine": busy / TICK,
        **{f"process {pid}": s for pid, s in children.items()},
    }


def ready(log: Path, processes: int) -> bool:
    """Whether every process has started serving (uvicorn logs each one's startup)."""
    return log.read_text().count("Application startup complete") >= processes


MODES = {"keep_alive": True, "per_request": False}


def throughput(
    path: Path, processes: int, requests: int, clients: int = CLIENTS
) -> dict[str, tuple[float, Tally, dict[str, float]]]:
    """Per connection mode: searches/s from ``clients`` threads, what they saw, and the cores
    each part used."""
    extra = ["--workers", str(processes)] if processes > 1 else []
    process, url, log = start(path, *extra)
    out = {}
    try:
        deadline = time.monotonic() + 300
        while not ready(log, processes):
            if time.monotonic() > deadline:
                raise RuntimeError(log.read_text()[-3000:])
            time.sleep(0.2)
        searches(url, Tally(), clients, 80, keep_alive=False)  # warm every process
        for mode, keep_alive in MODES.items():
            tally = Tally()
            before, started = cpu_seconds(process.pid), time.perf_counter()
            rate, _ = searches(url, tally, clients, requests, keep_alive=keep_alive)
            after, wall = cpu_seconds(process.pid), time.perf_counter() - started
            cores = {k: (after[k] - before[k]) / wall for k in before if k in after}
            each = sorted(cores.pop(k) for k in list(cores) if k.startswith("process "))
            if processes > 1:  # how evenly the requests were shared
                cores["busiest_share"] = each[-1] / sum(each)
            out[mode] = rate, tally, cores
    finally:
        stop(process)
    if any(t.errors for _, t, _ in out.values()):
        print(log.read_text()[-3000:])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", type=int, default=1000, help="SciFact abstracts in the index")
    parser.add_argument("--requests", type=int, default=400, help="searches per measurement")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="client threads")
    parser.add_argument("--out", type=Path, default=RESULTS / "workers.json")
    args = parser.parse_args()

    rows = []
    with postgres.server() as base, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kb"
        data = load_beir(DATA / "beir_scifact", "test")
        with KnowledgeBase(path, config=Config(catalog=postgres.new_database(base))) as kb:
            kb.ingest(ROOT / "sample" / "v1")
            kb.ingest_texts(data.corpus[: args.docs])
        for run in range(args.runs):
            order = (1, 2) if run % 2 == 0 else (2, 1)  # each arm first in turn
            measured = {n: throughput(path, n, args.requests, args.clients) for n in order}
            row: dict[str, Any] = {"first": order[0], "errors_5xx": 0, "mixed_versions": 0}
            for mode in MODES:
                one, two = measured[1][mode], measured[2][mode]
                row |= {
                    f"{mode}_one_per_s": one[0],
                    f"{mode}_two_per_s": two[0],
                    f"{mode}_ratio": two[0] / one[0],
                }
                for n, (_, tally, cores) in ((1, one), (2, two)):
                    row["errors_5xx"] += tally.errors
                    row["mixed_versions"] += tally.mixed
                    row |= {f"{mode}_cores_{part}_{n}": used for part, used in cores.items()}
            rows.append(row)
            print(f"run {run}: {json.dumps({k: round(v, 2) for k, v in row.items()})}")
    measures = [k for k, v in rows[0].items() if isinstance(v, float)]
    summary: dict[str, Any] = {k: median([r[k] for r in rows]) for k in measures}
    summary |= {
        "errors_5xx": sum(r["errors_5xx"] for r in rows),
        "mixed_versions": sum(r["mixed_versions"] for r in rows),
        "runs": args.runs,
        "docs": args.docs,
        "requests": args.requests,
        "clients": args.clients,
        "cores": len(os.sched_getaffinity(0)),
    }
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
