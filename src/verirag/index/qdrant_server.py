"""The cluster index: a collection on a Qdrant server or cluster through ``qdrant-client``
(pinned), with the embedded index's payload model, validity filters and tuning.

BM25 is done by the server, as sparse vectors with Qdrant's IDF modifier
(:mod:`verirag.index.bm25`). The watermark, history horizon and layout live in a state point
of the collection itself, so every API worker reads the one the index writer published. The
server cannot be installed on the machines verirag is built on: the tests run the same client
code on qdrant-client's local mode (``qdrant+local:PATH``), which answers the same API from a
single process.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import numpy.typing as npt
from qdrant_client import QdrantClient, models

from verirag.errors import InvalidInput
from verirag.index import bm25
from verirag.index._base import Hit, IndexPoint, Scope, to_hits
from verirag.index.qdrant_edge import (
    BM25_B,
    BM25_K1,
    DEFAULT_HNSW_EF,
    EF_CONSTRUCT,
    MAX_SEGMENT_KB,
    QUERY_TF_CAP,
    oversampling,
    point_id,
)

# Bumped when what a point carries changes: a collection of another format is rebuilt.
FORMAT = 1
STATE_ID = 0  # the state point: no vectors, no validity, so no query or count ever sees it
_PAYLOAD_FIELDS = ["doc_id", "version", "chunk_id", "ordinal"]
_KEYWORDS = ["doc_id", "chunk_id", "access", "doc_access", "meta.tags"]
_INTEGERS = ["version", "valid_from", "valid_to"]
# Local mode (the tests) has no payload indexes and no HNSW, and says so on every call.
warnings.filterwarnings("ignore", "Payload indexes have no effect", UserWarning)
warnings.filterwarnings("ignore", "Local mode performs exact", UserWarning)
# Until the first points say otherwise: about what a structure-aware 256-token chunk holds.
DEFAULT_AVGDL = 100.0


class ClusterSettings:
    """How a new collection is laid out on a cluster (the index URL's query parameters)."""

    def __init__(self, shards: int = 1, replicas: int = 1, write_consistency: int | None = None):
        if shards < 1 or replicas < 1:
            raise InvalidInput("shards and replicas are at least 1")
        self.shards = shards
        self.replicas = replicas
        # Every replica acknowledges a write by default: a watermark published after a write
        # is never ahead of the points a replica serves.
        self.write_consistency = write_consistency or replicas


def parse_url(url: str) -> tuple[QdrantClient, str, ClusterSettings]:
    """A client, a collection name and cluster settings from ``qdrant://HOST:PORT/COLLECTION``
    (``qdrants://`` over TLS; ``?shards=N&replicas=N&write_consistency=N&api_key=KEY``) or
    ``qdrant+local:PATH`` (qdrant-client's local mode, collection ``verirag``)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        settings = ClusterSettings(
            int(query.pop("shards", 1)),
            int(query.pop("replicas", 1)),
            int(query["write_consistency"]) if "write_consistency" in query else None,
        )
    except ValueError:
        raise InvalidInput(f"{url}: shards, replicas and write_consistency are numbers") from None
    query.pop("write_consistency", None)
    api_key = query.pop("api_key", None)
    if query:
        raise InvalidInput(f"{url}: unknown settings {sorted(query)}")
    if parts.scheme == "qdrant+local":
        path = url.split(":", 1)[1].split("?", 1)[0]
        if not path:
            raise InvalidInput("qdrant+local: needs a path (qdrant+local:/var/lib/verirag/qdrant)")
        return QdrantClient(path=path), "verirag", settings
    if parts.scheme not in ("qdrant", "qdrants") or not parts.hostname:
        raise InvalidInput(f"{url}: an index is qdrant://HOST:PORT/COLLECTION or qdrant+local:PATH")
    collection = parts.path.strip("/") or "verirag"
    client = QdrantClient(
        host=parts.hostname,
        port=parts.port or 6333,
        https=parts.scheme == "qdrants",
        api_key=api_key,
    )
    return client, collection, settings


def _filter(scope: Scope) -> models.Filter:
    """The filter of ``scope`` (as the embedded index's): the versions valid at its commit,
    readable by its groups (the version's access and the document's), narrowed."""
    seq = scope.seq
    must: list[Any] = [
        models.FieldCondition(key="valid_from", range=models.Range(lte=seq)),
        models.FieldCondition(key="valid_to", range=models.Range(gt=seq)),
    ]
    if scope.groups is not None:
        groups = list(scope.groups) or ["\x00"]
        must.append(models.FieldCondition(key="access", match=models.MatchAny(any=groups)))
        must.append(models.FieldCondition(key="doc_access", match=models.MatchAny(any=groups)))
    if scope.doc_ids is not None:
        wanted = list(scope.doc_ids) or ["\x00"]
        must.append(models.FieldCondition(key="doc_id", match=models.MatchAny(any=wanted)))
    if scope.points is not None:
        must.append(models.HasIdCondition(has_id=sorted({point_id(*p) for p in scope.points})))
    for key, value in (scope.metadata or {}).items():
        must.append(_metadata_condition(f"meta.{key}", value))
    return models.Filter(must=must)


def _metadata_condition(key: str, value: Any) -> models.FieldCondition:
    if isinstance(value, dict):
        if all(isinstance(v, str) for v in value.values()):
            return models.FieldCondition(key=key, range=models.DatetimeRange(**value))
        bounds = {k: float(v) for k, v in value.items()}
        return models.FieldCondition(key=key, range=models.Range(**bounds))
    if isinstance(value, list | tuple):
        return models.FieldCondition(key=key, match=models.MatchAny(any=list(value)))
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


class QdrantIndex:
    """One collection of a Qdrant server (or qdrant-client's local mode): the client is
    passed in, so any transport the client supports serves."""

    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        *,
        dim: int,
        model_id: str,
        hnsw_ef: int = DEFAULT_HNSW_EF,
        quantization: bool = True,
        on_disk: bool = True,
        cluster: ClusterSettings | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.model_id = model_id
        self.dim = dim
        self.hnsw_ef = hnsw_ef
        self.layout = {"quantization": "int8" if quantization else "none", "on_disk": on_disk}
        self.cluster = cluster or ClusterSettings()
        self.bm25 = (BM25_K1, BM25_B)
        self.durable_every = 0.0  # every write is acknowledged durable by the server
        # Chunks and terms written since the last publish: the running mean length's share.
        self._unpublished = {"chunks": 0, "terms": 0}
        state = self._read_state() if client.collection_exists(collection) else None
        if state is not None and (
            state.get("format") != FORMAT or state.get("layout") != self.layout
        ):
            state = None  # derived data: rebuilt from the catalog
        if state is not None and (state.get("model_id") != model_id or state.get("dim") != dim):
            raise ValueError(
                f"the collection {collection} holds {state.get('model_id')} vectors, not "
                f"{model_id}: run `verirag reindex`"
            )
        if state is None:
            self._create()
            state = self._write_state(watermark=0, horizon=0, terms=0, chunks=0)
        self._state = state

    # -- state ------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any] | None:
        """The state point as published (one look-up: the collection exists once opened)."""
        found = self.client.retrieve(self.collection, [STATE_ID], with_payload=True)
        if not found or not found[0].payload:
            return None
        state: dict[str, Any] = found[0].payload["verirag"]
        return state

    def _write_state(self, **changes: Any) -> dict[str, Any]:
        """Publish the state with ``changes`` and the chunk lengths written since the last
        publish (counted apart, so a reader's refresh of the state never drops them)."""
        state = {
            **getattr(self, "_state", {}),
            **changes,
            "format": FORMAT,
            "layout": self.layout,
            "model_id": self.model_id,
            "dim": self.dim,
        }
        for name, added in self._unpublished.items():
            state[name] = int(state.get(name, 0)) + added
        point = models.PointStruct(id=STATE_ID, vector={}, payload={"verirag": state})
        self.client.upsert(self.collection, [point], wait=True)
        self._unpublished = {"chunks": 0, "terms": 0}
        self._state = state
        return state

    def _create(self) -> None:
        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)
        on_disk = bool(self.layout["on_disk"])
        quantization = (
            models.ScalarQuantization(
                scalar=models.ScalarQuantizationConfig(
                    type=models.ScalarType.INT8, quantile=0.99, always_ram=True
                )
            )
            if self.layout["quantization"] == "int8"
            else None
        )
        self.client.create_collection(
            self.collection,
            vectors_config={
                "dense": models.VectorParams(
                    size=self.dim,
                    distance=models.Distance.COSINE,
                    on_disk=on_disk,
                    quantization_config=quantization,
                )
            },
            sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)},
            hnsw_config=models.HnswConfigDiff(
                m=16, ef_construct=EF_CONSTRUCT, full_scan_threshold=10_000
            ),
            optimizers_config=models.OptimizersConfigDiff(max_segment_size=MAX_SEGMENT_KB),
            on_disk_payload=on_disk,
            shard_number=self.cluster.shards,
            replication_factor=self.cluster.replicas,
            write_consistency_factor=self.cluster.write_consistency,
        )
        for name in _KEYWORDS:
            self.client.create_payload_index(
                self.collection, name, field_schema=models.PayloadSchemaType.KEYWORD
            )
        for name in _INTEGERS:
            self.client.create_payload_index(
                self.collection, name, field_schema=models.PayloadSchemaType.INTEGER
            )
        self.client.create_payload_index(
            self.collection, "meta.effective", field_schema=models.PayloadSchemaType.DATETIME
        )

    @property
    def watermark(self) -> int:
        """The last catalog commit fully applied, as the index writer last published it
        (read from the server: another process may be the writer)."""
        state = self._read_state()
        if state is not None:
            self._state = state
        return int(self._state["watermark"])

    def set_watermark(self, seq: int) -> None:
        """Publish everything written so far: one acknowledged write of the state point."""
        self._write_state(watermark=seq)

    def persist(self) -> None:
        """Nothing to do: the server acknowledged every write as durable."""

    @property
    def horizon(self) -> int:
        return int(self._state.get("horizon", 0))

    def compact(self, horizon: int) -> int:
        if horizon <= self.horizon:
            return 0
        gone = models.Filter(
            must=[models.FieldCondition(key="valid_to", range=models.Range(lte=horizon))]
        )
        count = self.client.count(self.collection, count_filter=gone, exact=True).count
        self._write_state(horizon=horizon)
        if count:
            self.client.delete(self.collection, models.FilterSelector(filter=gone), wait=True)
        return int(count)

    # -- writes -----------------------------------------------------------------------

    def _avgdl(self, lengths: Sequence[int]) -> float:
        """The mean chunk length in terms, fixed into each point as it is written."""
        chunks = int(self._state.get("chunks", 0)) + self._unpublished["chunks"]
        total = int(self._state.get("terms", 0)) + self._unpublished["terms"]
        if not chunks:
            chunks, total = len(lengths), sum(lengths)
        return total / chunks if chunks and total else DEFAULT_AVGDL

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        lengths = [bm25.length(p.text) for p in points]
        avgdl = self._avgdl(lengths)
        k1, b = self.bm25
        batch = []
        for p in points:
            sparse = bm25.document_vector(p.text, avgdl, k1=k1, b=b)
            batch.append(
                models.PointStruct(
                    id=point_id(p.doc_id, p.version, p.chunk_id),
                    vector={
                        "dense": np.asarray(p.vector, dtype=np.float32).tolist(),
                        "bm25": models.SparseVector(indices=sparse.indices, values=sparse.values),
                    },
                    payload={
                        "doc_id": p.doc_id,
                        "version": p.version,
                        "chunk_id": p.chunk_id,
                        "ordinal": p.ordinal,
                        "valid_from": p.valid_from,
                        "valid_to": p.valid_to,
                        "access": list(p.access),
                        "doc_access": list(p.access if p.doc_access is None else p.doc_access),
                        "meta": dict(p.metadata),
                    },
                )
            )
        self.client.upsert(self.collection, batch, wait=True)
        self._unpublished["chunks"] += len(points)  # published with the next state
        self._unpublished["terms"] += sum(lengths)

    def _set(self, doc_id: str, payload: dict[str, Any], version: int | None = None) -> None:
        must = [models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id))]
        if version is not None:
            must.append(
                models.FieldCondition(key="version", match=models.MatchValue(value=version))
            )
        self.client.set_payload(
            self.collection, payload, points=models.Filter(must=must), wait=True
        )

    def close_version(self, doc_id: str, version: int, valid_to: int) -> None:
        self._set(doc_id, {"valid_to": valid_to}, version)

    def relabel(self, doc_id: str, doc_access: Sequence[str]) -> None:
        self._set(doc_id, {"doc_access": list(doc_access)})

    def optimize(self) -> None:
        """Nothing to do: the server builds its HNSW segments by itself."""

    # -- reads ------------------------------------------------------------------------

    def dense(
        self, vector: npt.NDArray[np.float32], limit: int, scope: Scope, *, exact: bool = False
    ) -> list[Hit]:
        found = self.client.query_points(
            self.collection,
            query=np.asarray(vector, dtype=np.float32).tolist(),
            using="dense",
            query_filter=_filter(scope),
            limit=limit,
            search_params=models.SearchParams(
                hnsw_ef=self.hnsw_ef,
                exact=exact,
                quantization=models.QuantizationSearchParams(
                    ignore=exact, rescore=True, oversampling=oversampling(limit)
                ),
            ),
            with_payload=_PAYLOAD_FIELDS,
        )
        return to_hits(found.points)

    def text(self, query: str, limit: int, scope: Scope) -> list[Hit]:
        """BM25 by the server: the query's terms, each weighted by how often it is said."""
        sparse = bm25.query_vector(query, tf_cap=QUERY_TF_CAP)
        if not sparse.indices:
            return []
        found = self.client.query_points(
            self.collection,
            query=models.SparseVector(indices=sparse.indices, values=sparse.values),
            using="bm25",
            query_filter=_filter(scope),
            limit=limit,
            with_payload=_PAYLOAD_FIELDS,
        )
        return to_hits(found.points)

    def count(self, scope: Scope) -> int:
        found = self.client.count(self.collection, count_filter=_filter(scope), exact=True)
        return int(found.count)

    def close(self) -> None:
        self.client.close()
