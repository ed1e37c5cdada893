"""The catalog, source of truth: documents, immutable versions, chunks and membership."""

from verirag.catalog.store import (
    Catalog,
    CatalogError,
    CurrentState,
    DocumentInfo,
    NewVersion,
    StoredChunk,
    VersionInfo,
)

__all__ = [
    "Catalog",
    "CatalogError",
    "CurrentState",
    "DocumentInfo",
    "NewVersion",
    "StoredChunk",
    "VersionInfo",
]
