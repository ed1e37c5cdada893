"""verirag: answers from your own documents, citing the exact document, section and version."""

from verirag.access import Principal
from verirag.chunking import Chunk, Chunker
from verirag.config import Config
from verirag.documents import ParsedDocument, ParseError, parse
from verirag.errors import Forbidden, InvalidInput, NotFound, OutsideHistory, VeriragError
from verirag.generation import Answer, Claim, GenerationError, Source
from verirag.ingest import IngestReport, Outcome, Status, TextRecord
from verirag.kb import KnowledgeBase
from verirag.retrieval import Fusion, Mode, SearchOptions, SearchResult
from verirag.store import AuditRecord, DocumentInfo, Feedback, StoredChunk, VersionInfo

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "AuditRecord",
    "Chunk",
    "Chunker",
    "Claim",
    "Config",
    "DocumentInfo",
    "Feedback",
    "Forbidden",
    "Fusion",
    "GenerationError",
    "IngestReport",
    "InvalidInput",
    "KnowledgeBase",
    "Mode",
    "NotFound",
    "Outcome",
    "OutsideHistory",
    "ParseError",
    "ParsedDocument",
    "Principal",
    "SearchOptions",
    "SearchResult",
    "Source",
    "Status",
    "StoredChunk",
    "TextRecord",
    "VeriragError",
    "VersionInfo",
    "__version__",
    "parse",
]
