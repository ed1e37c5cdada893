"""The embedded index: a Qdrant Edge shard inside the knowledge-base directory.

Dense HNSW vectors, a BM25-scored text index (English stemming and stop words), and payload
indexes for document, version validity and access groups. Version pinned: the API is young.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import qdrant_edge as Q

from verirag.index._base import Hit, IndexPoint, Scope, to_hits
from verirag.text import fold, terms
from verirag.text.terms import WORD

# Measured on SciFact (benchmarks/ann_recall.py): ef 128 keeps recall@10 >= 0.99 against exact.
DEFAULT_HNSW_EF = 128
# int8 vectors are searched, then the best ``limit * oversampling`` are rescored by the float32
# originals (on disk, memory-mapped): a quarter of the memory at the same top results
# (benchmarks/scale.py, docs/scale.md). Twice the limit for a short list, up to RESCORED: the
# HNSW search walks as many, and a fusion candidate list of 200 rescored twice over made a dense
# search at 1M points 13.2 ms instead of 8.4, for the same hybrid nDCG@10 and Recall@100 on
# SciFact train (benchmarks/scale_ab.py, docs/scale.md).
OVERSAMPLING = 2.0
RESCORED = 200


def oversampling(limit: int) -> float:
    """How many times ``limit`` int8 candidates are rescored by the originals."""
    return max(1.0, min(OVERSAMPLING, RESCORED / max(limit, 1)))


# HNSW build (benchmarks/scale.py, docs/scale.md): ef_construct 100 builds 100k points in 0.64x
# the time of 200 at the same recall@10; a segment stops growing at about 150k points, so no
# build is longer than one such segment's, where one segment of everything was rebuilt whole
# whenever it grew (300k points: 290 s a build).
EF_CONSTRUCT = 100
MAX_SEGMENT_KB = 300_000
# BM25 parameters measured on SciFact/NFCorpus train (see docs/retrieval.md).
# A query term said n times weighs n times (up to the cap): on paragraph queries (NFCorpus
# train, benchmarks/paragraphs.py) weighting by count lifted BM25 nDCG@10 0.16 -> 0.23 in
# bm25s, with the gain flat from 6-8 repeats on.
QUERY_TF_CAP = 8
BM25_K1 = 0.9
BM25_B = 0.4

_PAYLOAD_FIELDS = ["doc_id", "version", "chunk_id", "ordinal"]
_STATE_FILE = "state.json"
# Bumped when what a point carries changes; an index of another format is rebuilt from the
# catalog on open (2: ``doc_access``; 3: the layout below is recorded).
FORMAT = 3


def point_id(doc_id: str, version: int, chunk_id: str) -> int:
    digest = hashlib.sha256(f"{doc_id}\x00{version}\x00{chunk_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # 63 bits: a valid unsigned id


def _filter(scope: Scope, *extra: Any, born: bool = False) -> Any:
    """The engine's filter for ``scope``; ``born``: every point in the index was created at
    or before ``scope.seq``, so the lower bound of the validity range is left out."""
    must: list[Any] = [
        Q.FieldCondition("valid_to", range=Q.RangeFloat(gt=float(scope.seq))),
        *extra,
    ]
    if not born:
        must.append(Q.FieldCondition("valid_from", range=Q.RangeFloat(lte=float(scope.seq))))
    if scope.groups is not None:
        # verirag.access: the version's own access and the document's current one.
        groups = list(scope.groups) or ["\x00"]
        must.append(Q.FieldCondition("access", match=Q.MatchAny(groups)))
        must.append(Q.FieldCondition("doc_access", match=Q.MatchAny(groups)))
    if scope.doc_ids is not None:
        must.append(Q.FieldCondition("doc_id", match=Q.MatchAny(list(scope.doc_ids) or ["\x00"])))
    if scope.points is not None:
        must.append(Q.HasIdCondition({point_id(*p) for p in scope.points}))
    for key, value in (scope.metadata or {}).items():
        must.append(_metadata_condition(f"meta.{key}", value))
    return Q.Filter(must=must)


_RANGE_KEYS = {"gte", "gt", "lte", "lt"}


def _metadata_condition(key: str, value: Any) -> Any:
    """A value matches exactly, a list matches any of its items, and a dict of gte/gt/lte/lt
    is a range: over dates (RFC 3339 strings) or numbers."""
    if isinstance(value, dict):
        if not value or not value.keys() <= _RANGE_KEYS:
            raise ValueError(f"a range on {key} takes gte, gt, lte and lt, not {sorted(value)}")
        if all(isinstance(v, str) for v in value.values()):
            return Q.FieldCondition(key, range=Q.RangeDateTime(**value))
        return Q.FieldCondition(key, range=Q.RangeFloat(**{k: float(v) for k, v in value.items()}))
    if isinstance(value, list | tuple):
        return Q.FieldCondition(key, match=Q.MatchAny(list(value)))
    return Q.FieldCondition(key, match=Q.MatchValue(value))


def query_layers(query: str) -> list[str]:
    """The query, then for n = 2 .. :data:`QUERY_TF_CAP` its words whose term (folded,
    stemmed, stop words out, as the text index reads them) it says at least n times."""
    counts: dict[str, int] = {}
    said: dict[str, str] = {}
    for word in WORD.findall(fold(query)):
        for term in terms(word):
            counts[term] = counts.get(term, 0) + 1
            said.setdefault(term, word)
    most = min(max(counts.values(), default=1), QUERY_TF_CAP)
    return [query] + [
        " ".join(said[t] for t, n in counts.items() if n >= layer) for layer in range(2, most + 1)
    ]


class EdgeIndex:
    """Qdrant Edge shard at ``path/shard`` plus ``path/state.json`` (watermark, model)."""

    def __init__(
        self,
        path: str | Path,
        *,
        dim: int,
        model_id: str,
        hnsw_ef: int = DEFAULT_HNSW_EF,
        quantization: bool = True,
        on_disk: bool = True,
    ) -> None:
        self.path = Path(path)
        self.model_id = model_id
        self.hnsw_ef = hnsw_ef
        # How the shard is laid out; another layout on disk is rebuilt from the catalog.
        self.layout = {"quantization": "int8" if quantization else "none", "on_disk": on_disk}
        self.bm25 = (BM25_K1, BM25_B)
        self.dim = dim
        self.durable_every = 0.0
        self._flushed_at = time.monotonic()
        state = self._read_state()
        if state is not None and (
            state.get("format", 1) != FORMAT or state.get("layout") != self.layout
        ):
            state = None  # derived data: rebuilt from the catalog (vectors come from the cache)
        if state is not None and (state.get("model_id") != model_id or state.get("dim") != dim):
            raise ValueError(
                f"the index at {self.path} holds {state.get('model_id')} vectors, not {model_id}: "
                "run `verirag reindex`"
            )
        shard_path = self.path / "shard"
        if state is None:
            if self.path.exists():
                shutil.rmtree(self.path)
            shard_path.mkdir(parents=True)
            self.shard = Q.EdgeShard.create(str(shard_path), self._config())
            self._create_field_indexes()
            self._watermark = self._durable = self._horizon = 0
            self._write_state()
        else:
            try:
                self.shard = Q.EdgeShard.load(str(shard_path))
            except Exception as exc:
                if "WouldBlock" in str(exc):  # the shard's WAL is locked by its owner
                    raise RuntimeError(
                        f"{self.path.parent} is open in another process (a running "
                        "`verirag serve`?); stop it or go through its API"
                    ) from None
                raise
            self._watermark = self._durable = int(state["watermark"])
            self._horizon = int(state.get("horizon", 0))
            self._forget_unpublished()
        # The newest commit any point was created by, raised before each write: a query at
        # or after it needs no lower bound on validity (see :meth:`dense`).
        self._newest_from = self._watermark

    def _forget_unpublished(self) -> None:
        """Delete points of commits after the durable watermark (written, then a crash before
        it was recorded): the catalog replays those commits, and afterwards no point is newer
        than the watermark unless a write is in flight."""
        ahead = Q.Filter(
            must=[Q.FieldCondition("valid_from", range=Q.RangeFloat(gt=float(self._watermark)))]
        )
        if self.shard.count(Q.CountRequest(filter=ahead, exact=True)):
            self.shard.update(Q.UpdateOperation.delete_points_by_filter(ahead))

    def _config(self) -> Any:
        # On disk: memory-mapped and read on demand, so the page cache holds what searches
        # touch. Loading the vectors into memory instead (the int8 copy, or the originals
        # pre-read) made a 1M-point shard open in 11-14 s instead of 2.2, for the same search
        # latency once warm (benchmarks/scale.py, docs/scale.md).
        placement = Q.Memory.Cold if self.layout["on_disk"] else Q.Memory.Pinned
        quantization = (
            Q.ScalarQuantizationConfig(Q.ScalarType.Int8, quantile=0.99, memory=placement)
            if self.layout["quantization"] == "int8"
            else None
        )
        vectors = Q.EdgeVectorParams(
            size=self.dim,
            distance=Q.Distance.Cosine,
            memory=placement,
            quantization_config=quantization,
        )
        return Q.EdgeConfig(
            vectors={"dense": vectors},
            payload_memory=placement,
            hnsw_config=Q.HnswIndexConfig(
                m=16, ef_construct=EF_CONSTRUCT, full_scan_threshold=10_000
            ),
            optimizers=Q.EdgeOptimizersConfig(max_segment_size=MAX_SEGMENT_KB),
        )

    def _create_field_indexes(self) -> None:
        # Memory-mapped where a query reads few entries (open 0.45 s instead of 1.05 s at 100k
        # points). What every query filters by stays in memory: the validity range of the
        # scope (1M points, dense k=200: 15.5 ms pinned, 31.8 ms mapped, 7.5 ms unfiltered)
        # and the access fields (mapped, an access-filtered search took 11.0 ms, not 6.4).
        mapped, pinned = Q.Memory.Cached, Q.Memory.Pinned
        up = Q.UpdateOperation.create_field_index
        # Free metadata is filterable under meta.*; these two are common enough to index.
        self.shard.update(up("meta.tags", Q.KeywordIndexParams(memory=mapped)))
        self.shard.update(up("meta.effective", Q.DatetimeIndexParams(memory=mapped)))
        for field, memory in [
            ("doc_id", mapped),
            ("chunk_id", mapped),
            ("access", pinned),
            ("doc_access", pinned),
        ]:
            self.shard.update(up(field, Q.KeywordIndexParams(memory=memory)))
        for field, memory in [("version", mapped), ("valid_from", pinned), ("valid_to", pinned)]:
            numbers = Q.IntegerIndexParams(lookup=True, range=True, memory=memory)
            self.shard.update(up(field, numbers))
        text = Q.TextIndexParams(
            tokenizer=Q.TokenizerType.Word,
            lowercase=True,
            ascii_folding=True,
            stemmer=Q.SnowballParams(Q.SnowballLanguage.English),
            stopwords=Q.Language.English,
            scoring=True,
        )
        self.shard.update(Q.UpdateOperation.create_field_index("text", text))

    # -- state ------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any] | None:
        path = self.path / _STATE_FILE
        if not path.is_file() or not (self.path / "shard").is_dir():
            return None
        state: dict[str, Any] = json.loads(path.read_text())
        return state

    def _write_state(self) -> None:
        tmp = self.path / (_STATE_FILE + ".tmp")
        state = {
            "watermark": self._durable,
            "horizon": self._horizon,
            "model_id": self.model_id,
            "dim": self.dim,
            "format": FORMAT,
            "layout": self.layout,
        }
        tmp.write_text(json.dumps(state))
        os.replace(tmp, self.path / _STATE_FILE)

    @property
    def watermark(self) -> int:
        """The last catalog commit fully applied to the index."""
        return self._watermark

    def set_watermark(self, seq: int) -> None:
        """Publish everything written so far (the atomic switch: readers see it at once) and
        make it durable, now or, with ``durable_every``, at the first publish that many
        seconds after the last flush (and at close)."""
        self._watermark = seq
        if time.monotonic() - self._flushed_at >= self.durable_every:
            self.persist()

    def persist(self) -> None:
        """Flush the shard, then record the watermark it now holds durably in ``state.json``:
        what a restart resumes from (the catalog replays anything after it)."""
        seq = self._watermark
        self.shard.flush()
        self._flushed_at = time.monotonic()
        if seq != self._durable:
            self._durable = seq
            self._write_state()

    # -- writes -----------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        batch = [
            Q.Point(
                point_id(p.doc_id, p.version, p.chunk_id),
                {"dense": np.asarray(p.vector, dtype=np.float32).tolist()},
                {
                    "doc_id": p.doc_id,
                    "version": p.version,
                    "chunk_id": p.chunk_id,
                    "ordinal": p.ordinal,
                    "text": p.text,
                    "valid_from": p.valid_from,
                    "valid_to": p.valid_to,
                    "access": list(p.access),
                    "doc_access": list(p.access if p.doc_access is None else p.doc_access),
                    "meta": dict(p.metadata),
                },
            )
            for p in points
        ]
        self._newest_from = max(self._newest_from, *(p.valid_from for p in points))
        self.shard.update(Q.UpdateOperation.upsert_points(batch))

    def close_version(self, doc_id: str, version: int, valid_to: int) -> None:
        flt = Q.Filter(
            must=[
                Q.FieldCondition("doc_id", match=Q.MatchValue(doc_id)),
                Q.FieldCondition("version", match=Q.MatchValue(version)),
            ]
        )
        self.shard.update(Q.UpdateOperation.set_payload_by_filter(flt, {"valid_to": valid_to}))

    def relabel(self, doc_id: str, doc_access: Sequence[str]) -> None:
        flt = Q.Filter(must=[Q.FieldCondition("doc_id", match=Q.MatchValue(doc_id))])
        self.shard.update(
            Q.UpdateOperation.set_payload_by_filter(flt, {"doc_access": list(doc_access)})
        )

    @property
    def horizon(self) -> int:
        """Points closed at or before this commit are gone (:meth:`compact`)."""
        return self._horizon

    def compact(self, horizon: int) -> int:
        """Delete the points closed at or before commit ``horizon``; returns how many. The
        horizon is recorded first: a crash in between leaves points no query may read, never
        a query at an older commit answered without them."""
        if horizon <= self._horizon:
            return 0
        gone = Q.Filter(must=[Q.FieldCondition("valid_to", range=Q.RangeFloat(lte=horizon))])
        count = int(self.shard.count(Q.CountRequest(filter=gone, exact=True)))
        self._horizon = horizon
        self._write_state()
        if count:
            self.shard.update(Q.UpdateOperation.delete_points_by_filter(gone))
        return count

    def optimize(self) -> None:
        """Build HNSW segments (search is brute force until then)."""
        self.shard.optimize()

    # -- reads ------------------------------------------------------------------------

    def dense(
        self, vector: npt.NDArray[np.float32], limit: int, scope: Scope, *, exact: bool = False
    ) -> list[Hit]:
        """Every point was created at or before the watermark unless a write is in flight, so
        an HNSW search at the watermark leaves out the validity range's lower bound (the range
        cost a dense search 8 ms at 1M points; this bound about 2 ms of 14-16 at 100k,
        docs/scale.md); if a write began meanwhile, its points may have been found, and the
        search is asked again with the whole range. Exact searches keep the whole range."""
        query = Q.Query.Nearest(np.asarray(vector, dtype=np.float32).tolist(), using="dense")
        if exact or scope.seq < self._newest_from:
            return to_hits(
                self.shard.query(self._dense_request(query, limit, _filter(scope), exact))
            )
        hits = self.shard.query(self._dense_request(query, limit, _filter(scope, born=True), False))
        if scope.seq < self._newest_from:
            hits = self.shard.query(self._dense_request(query, limit, _filter(scope), False))
        return to_hits(hits)

    def _dense_request(self, query: Any, limit: int, flt: Any, exact: bool) -> Any:
        return Q.QueryRequest(
            limit=limit,
            query=query,
            filter=flt,
            params=Q.SearchParams(
                hnsw_ef=self.hnsw_ef,
                exact=exact,
                # Exact search is over the originals: the ground truth quantisation is held to.
                quantization=Q.QuantizationSearchParams(
                    ignore=exact, rescore=True, oversampling=oversampling(limit)
                ),
            ),
            with_payload=_PAYLOAD_FIELDS,
        )

    def text(self, query: str, limit: int, scope: Scope) -> list[Hit]:
        """BM25, each query term weighted by how often the query says it (as Lucene and
        bm25s do). The engine counts a query term once, so a query that repeats terms (a
        paragraph) is asked in layers: all its terms, then those said twice or more, and so
        on up to :data:`QUERY_TF_CAP`; a chunk's score is the sum over the layers."""
        layers = query_layers(query)
        if len(layers) == 1:
            return self._text(query, limit, scope)
        summed: dict[tuple[str, int, str, int], Hit] = {}
        for layer in layers:
            for hit in self._text(layer, limit, scope):
                key = (hit.doc_id, hit.version, hit.chunk_id, hit.ordinal)
                was = summed.get(key)
                summed[key] = hit if was is None else was._replace(score=was.score + hit.score)
        ranked = sorted(summed.values(), key=lambda h: (-h.score, h.chunk_id))
        return ranked[:limit]

    def _text(self, query: str, limit: int, scope: Scope) -> list[Hit]:
        # The whole validity range: without its lower bound a text query was no faster (three
        # runs at 100k points: 9.4-10.6 ms against 9.0-10.2 with it; docs/scale.md).
        request = Q.QueryRequest(
            limit=limit,
            query=Q.TextQuery("text", query, Q.Bm25Params(k=self.bm25[0], b=self.bm25[1])),
            filter=_filter(scope),
            with_payload=_PAYLOAD_FIELDS,
        )
        return to_hits(self.shard.query(request))

    def count(self, scope: Scope) -> int:
        return int(self.shard.count(Q.CountRequest(filter=_filter(scope), exact=True)))

    def close(self) -> None:
        self.persist()
        self.shard.close()
