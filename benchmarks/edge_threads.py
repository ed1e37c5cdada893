"""What Qdrant Edge (qdrant-edge-py, pinned) allows from several threads, on random vectors:
query throughput from 1, 2 and 4 threads; whether a query, an upsert, a flush and an
optimize hold the GIL (a ticker thread's longest gap); queries during writes and during an
optimize. docs/server.md ("What the embedded engine allows") quotes its figures.

    .venv/bin/python benchmarks/edge_threads.py
"""
# ruff: noqa  (a measurement script, kept as it was run)


def threads():
    print("-- threads")
    import time, threading, tempfile, numpy as np, qdrant_edge as Q
    from concurrent.futures import ThreadPoolExecutor

    d = tempfile.mkdtemp()
    dim = 384
    n = 40000
    shard = Q.EdgeShard.create(
        d, Q.EdgeConfig(vectors={"dense": Q.EdgeVectorParams(size=dim, distance=Q.Distance.Cosine)})
    )
    rng = np.random.default_rng(0)
    V = rng.standard_normal((n, dim)).astype(np.float32)
    for i in range(0, n, 2000):
        shard.update(
            Q.UpdateOperation.upsert_points(
                [Q.Point(j, {"dense": V[j].tolist()}, {"t": j}) for j in range(i, i + 2000)]
            )
        )
    queries = [rng.standard_normal(dim).astype(np.float32).tolist() for _ in range(64)]

    def q(v, exact=True):
        return shard.query(
            Q.QueryRequest(
                limit=10,
                query=Q.Query.Nearest(v, using="dense"),
                params=Q.SearchParams(exact=exact),
            )
        )

    for threads in (1, 2, 4):
        t = time.perf_counter()
        with ThreadPoolExecutor(threads) as ex:
            list(ex.map(q, queries))
        print("exact threads", threads, "qps", 64 / (time.perf_counter() - t))
    # GIL: does a python loop progress during a query?
    cnt = 0
    stop = False

    def spin():
        nonlocal cnt
        while not stop:
            cnt += 1

    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.2)
    c0 = cnt
    t = time.perf_counter()
    for v in queries[:16]:
        q(v)
    el = time.perf_counter() - t
    c1 = cnt
    stop = True
    th.join()
    cnt = 0
    stop = False
    th = threading.Thread(target=spin)
    th.start()
    time.sleep(el)
    stop = True
    th.join()
    print("spin during queries", c1 - c0, "spin alone same time", cnt)
    # query during update
    stop = False
    errs = []
    nq = 0

    def writer():
        k = n
        while not stop:
            shard.update(
                Q.UpdateOperation.upsert_points(
                    [Q.Point(j, {"dense": V[j % n].tolist()}, {"t": j}) for j in range(k, k + 500)]
                )
            )
            k += 500

    def reader():
        nonlocal nq
        while not stop:
            try:
                q(queries[nq % 64], exact=False)
                nq += 1
            except Exception as e:
                errs.append(repr(e))

    ths = [
        threading.Thread(target=writer),
        threading.Thread(target=reader),
        threading.Thread(target=reader),
    ]
    [x.start() for x in ths]
    time.sleep(3)
    stop = True
    [x.join() for x in ths]
    print("queries during writes", nq, "errors", errs[:3])
    t = time.perf_counter()
    shard.optimize()
    print("optimize", time.perf_counter() - t)


def gil():
    print("-- gil")
    import time, threading, tempfile, sys, numpy as np, qdrant_edge as Q

    d = tempfile.mkdtemp()
    dim = 384
    n = 20000
    shard = Q.EdgeShard.create(
        d, Q.EdgeConfig(vectors={"dense": Q.EdgeVectorParams(size=dim, distance=Q.Distance.Cosine)})
    )
    rng = np.random.default_rng(0)
    V = rng.standard_normal((n, dim)).astype(np.float32)
    for i in range(0, n, 2000):
        shard.update(
            Q.UpdateOperation.upsert_points(
                [Q.Point(j, {"dense": V[j].tolist()}, {"t": j}) for j in range(i, i + 2000)]
            )
        )
    v = V[0].tolist()

    def q():
        return shard.query(
            Q.QueryRequest(
                limit=10, query=Q.Query.Nearest(v, using="dense"), params=Q.SearchParams(exact=True)
            )
        )

    t = time.perf_counter()
    [q() for _ in range(20)]
    per = (time.perf_counter() - t) / 20
    print("per query ms", per * 1000)
    # measure max gap of a ticker thread while main runs queries
    sys.setswitchinterval(0.001)
    gaps = []
    stop = False

    def ticker():
        last = time.perf_counter()
        while not stop:
            time.sleep(0.0005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    th = threading.Thread(target=ticker)
    th.start()
    time.sleep(0.1)
    gaps.clear()
    [q() for _ in range(30)]
    stop = True
    th.join()
    print(
        "ticker max gap during queries ms",
        max(gaps) * 1000,
        "median",
        sorted(gaps)[len(gaps) // 2] * 1000,
    )
    # query latency from a thread while optimize runs
    lat = []
    stop = False

    def reader():
        while not stop:
            t = time.perf_counter()
            q()
            lat.append(time.perf_counter() - t)

    th = threading.Thread(target=reader)
    th.start()
    time.sleep(0.2)
    t = time.perf_counter()
    shard.optimize()
    opt = time.perf_counter() - t
    stop = True
    th.join()
    print("optimize s", opt, "queries during", len(lat), "max latency ms", max(lat) * 1000)


def optimize():
    print("-- optimize")
    import time, threading, tempfile, sys, numpy as np, qdrant_edge as Q

    d = tempfile.mkdtemp()
    dim = 384
    n = 20000
    shard = Q.EdgeShard.create(
        d, Q.EdgeConfig(vectors={"dense": Q.EdgeVectorParams(size=dim, distance=Q.Distance.Cosine)})
    )
    rng = np.random.default_rng(0)
    V = rng.standard_normal((n, dim)).astype(np.float32)
    for i in range(0, n, 2000):
        shard.update(
            Q.UpdateOperation.upsert_points(
                [Q.Point(j, {"dense": V[j].tolist()}, {"t": j}) for j in range(i, i + 2000)]
            )
        )
    gaps = []
    stop = False

    def ticker():
        last = time.perf_counter()
        while not stop:
            time.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    th = threading.Thread(target=ticker)
    th.start()
    time.sleep(0.1)
    gaps.clear()
    t = time.perf_counter()
    shard.optimize()
    print("optimize", time.perf_counter() - t)
    stop = True
    th.join()
    print("ticker max gap during optimize ms", max(gaps) * 1000, len(gaps))
    # update with big batch: GIL?
    gaps.clear()
    stop = False
    th = threading.Thread(target=ticker)
    th.start()
    time.sleep(0.05)
    pts = [Q.Point(j, {"dense": V[j - n].tolist()}, {"t": j}) for j in range(n, n + 2000)]
    t = time.perf_counter()
    shard.update(Q.UpdateOperation.upsert_points(pts))
    print("upsert 2000", time.perf_counter() - t)
    t = time.perf_counter()
    shard.flush()
    print("flush", time.perf_counter() - t)
    stop = True
    th.join()
    print("ticker max gap during upsert+flush ms", max(gaps) * 1000)
    # query during flush / upsert from other thread
    lat = []
    stop = False
    v = V[1].tolist()

    def reader():
        while not stop:
            t = time.perf_counter()
            shard.query(Q.QueryRequest(limit=10, query=Q.Query.Nearest(v, using="dense")))
            lat.append(time.perf_counter() - t)

    th = threading.Thread(target=reader)
    th.start()
    time.sleep(0.1)
    for k in range(5):
        pts = [
            Q.Point(j, {"dense": V[j % n].tolist()}, {"t": j})
            for j in range(n + 2000 * (k + 1), n + 2000 * (k + 2))
        ]
        shard.update(Q.UpdateOperation.upsert_points(pts))
        shard.flush()
    stop = True
    th.join()
    lat.sort()
    print(
        "reader during upserts: n",
        len(lat),
        "p50 ms",
        lat[len(lat) // 2] * 1000,
        "max ms",
        lat[-1] * 1000,
    )


if __name__ == "__main__":
    threads()
    gil()
    optimize()
