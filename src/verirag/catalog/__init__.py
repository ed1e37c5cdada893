"""The catalog, source of truth: documents, immutable versions, chunks and membership."""

from verirag.catalog.store import (
    Catalog,
    CatalogError,
    ChunkDetail,
    CurrentState,
    DocumentInfo,
    IndexRow,
    NewVersion,
    StoredChunk,
    VersionInfo,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "ChunkDetail",
    "CurrentState",
    "DocumentInfo",
    "IndexRow",
    "NewVersion",
    "StoredChunk",
    "VersionInfo",
]
