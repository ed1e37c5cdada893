"""Ingestion: find sources, skip unchanged ones, parse and chunk in worker processes, commit
each document as its own catalog transaction; follow a folder for changes."""

from verirag.ingest.ingestor import Batch, Files, Ingestor
from verirag.ingest.report import IngestReport, Outcome, Progress, Status
from verirag.ingest.sources import (
    DEFAULT_EXCLUDES,
    MAX_NAME_BYTES,
    SIDECAR_SUFFIX,
    IngestSource,
    Selection,
    Selector,
    Sidecar,
    SourceError,
    TextRecord,
    discover,
    is_candidate,
    is_sidecar,
    parse_meta,
    read_sidecar,
    text_sources,
)
from verirag.ingest.uploads import save_upload, upload_name
from verirag.ingest.watch import Changes, changes
from verirag.ingest.workers import ChunkerSpec, ParsePool

__all__ = [
    "DEFAULT_EXCLUDES",
    "MAX_NAME_BYTES",
    "SIDECAR_SUFFIX",
    "Batch",
    "Changes",
    "ChunkerSpec",
    "Files",
    "IngestReport",
    "IngestSource",
    "Ingestor",
    "Outcome",
    "ParsePool",
    "Progress",
    "Selection",
    "Selector",
    "Sidecar",
    "SourceError",
    "Status",
    "TextRecord",
    "changes",
    "discover",
    "is_candidate",
    "is_sidecar",
    "parse_meta",
    "read_sidecar",
    "save_upload",
    "text_sources",
    "upload_name",
]
