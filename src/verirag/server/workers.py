"""``verirag serve --workers N``: N server processes answering on one socket, on the
cluster profile (docs/deploy.md).

uvicorn's supervisor binds the socket, starts the processes (each calls :func:`app`) and
starts a new one when one dies. Each process is stateless: the catalog is on PostgreSQL, so
any of them answers any request, and its index is either the shared Qdrant collection
(``qdrant://``) or, with the embedded index, a replica of its own under ``replicas/`` that it
derives from the catalog and the embedding cache and keeps caught up (a query on the embedded
engine holds the GIL: a process per core is how searches run in parallel, docs/server.md).
Uploads are jobs in the catalog's queue for ``verirag worker`` processes, so their status
reads the same from every process."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from fastapi import FastAPI

from verirag.config import Config
from verirag.embedding import load_embedder
from verirag.errors import InvalidInput
from verirag.index import open_index
from verirag.kb import KnowledgeBase
from verirag.owner import Busy, OwnerLock
from verirag.server.app import create_app

SETTINGS_ENV = "VERIRAG_SERVE_WORKER"  # the parent's settings, for the processes it starts
REPLICAS_DIR = "replicas"


def check_profile(config: Config) -> None:
    """Refuse settings that one process must own (one line, :class:`InvalidInput`)."""
    if config.catalog is None:
        raise InvalidInput(
            "--workers needs the catalog on PostgreSQL (--catalog postgresql://...): "
            "an embedded catalog belongs to one process"
        )
    if config.index is not None and config.index.startswith("qdrant+local:"):
        raise InvalidInput(
            "--workers needs a Qdrant server (--index qdrant://...) or the embedded index: "
            "qdrant-client's local mode opens in one process only"
        )


def settings(path: Path, max_body_mb: int) -> str:
    """What :func:`app` reads in each process (set as :data:`SETTINGS_ENV`)."""
    return json.dumps({"path": str(path.resolve()), "max_body_mb": max_body_mb})


def replica(path: Path) -> tuple[Path, OwnerLock]:
    """The first replica directory under ``path/replicas`` no other process holds, locked
    for this one (kept across restarts: a restarted process catches up from where it was)."""
    for n in itertools.count():
        directory = path / REPLICAS_DIR / str(n)
        directory.mkdir(parents=True, exist_ok=True)
        lock = OwnerLock(directory)
        try:
            lock.acquire()
        except Busy:
            continue
        return directory / "index", lock
    raise AssertionError("unreachable")


def app() -> FastAPI:
    """The app of one server process (uvicorn's factory)."""
    given = json.loads(os.environ[SETTINGS_ENV])
    path = Path(given["path"])
    config = Config.load(path)
    if config is None:
        raise InvalidInput(f"{path} is not a knowledge base")
    check_profile(config)
    if config.index is not None:
        kb = KnowledgeBase(path)
        on_close = kb.close
    else:
        # Held while the process lives (the kernel drops it with a killed one).
        where, lock = replica(path)
        embedder = load_embedder(config.embedder, threads=config.threads)
        index = open_index(
            str(where),
            embedder.dim,
            embedder.model_id,
            quantization=config.quantization == "int8",
            on_disk=config.index_on_disk,
        )
        kb = KnowledgeBase(path, embedder=embedder, index=index)

        def on_close() -> None:
            kb.close()
            index.close()
            lock.release()

    return create_app(kb, max_body_mb=given["max_body_mb"], queue_uploads=True, on_close=on_close)
