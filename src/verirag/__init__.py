"""verirag: answers from your own documents, citing the exact document, section and version."""

from verirag.catalog import DocumentInfo, StoredChunk, VersionInfo
from verirag.chunking import Chunk, Chunker
from verirag.config import Config
from verirag.documents import ParsedDocument, ParseError, parse
from verirag.ingest import IngestReport, Outcome, Status, TextRecord
from verirag.kb import KnowledgeBase

__version__ = "0.1.0"

__all__ = [
    "Chunk",
    "Chunker",
    "Config",
    "DocumentInfo",
    "IngestReport",
    "KnowledgeBase",
    "Outcome",
    "ParseError",
    "ParsedDocument",
    "Status",
    "StoredChunk",
    "TextRecord",
    "VersionInfo",
    "__version__",
    "parse",
]
