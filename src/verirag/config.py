"""Knowledge-base settings, stored beside the catalog: every run chunks and embeds alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from verirag.errors import InvalidInput

CONFIG_FILE = "verirag.json"
CATALOG_FILE = "catalog.db"
INDEX_DIR = "index"
UPLOADS_DIR = "uploads"  # uploaded files, kept so their sources stay readable

# Request limits (HTTP 422 past them): a question is a sentence or a paragraph, not a
# document. 512 tokens is twice what the embedder reads (it truncates at 256).
MAX_QUERY_CHARS = 4000
MAX_QUERY_TOKENS = 512


def check_query(query: str, count_tokens: Callable[[str], int], what: str = "query") -> None:
    """Refuse an empty query (``ValueError``), or one past the limits above, in characters and
    then in the embedder's tokens (:class:`InvalidInput`, HTTP 422)."""
    if not query.strip():
        raise ValueError(f"empty {what}")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"the {what} is longer than {MAX_QUERY_CHARS} characters")
    if count_tokens(query) > MAX_QUERY_TOKENS:
        raise InvalidInput(f"the {what} is longer than {MAX_QUERY_TOKENS} tokens")


# Changing these changes what is stored (chunks, vectors): fixed when a knowledge base is made.
STORED_FIELDS = ("tokenizer", "chunking", "chunk_tokens", "chunk_overlap", "embedder")


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tokenizer: str = Field("all-MiniLM-L6-v2", description="the embedder's tokenizer")
    chunking: Literal["structure", "fixed"] = Field(
        "structure", description="structure-aware chunks, or fixed token windows (a baseline)"
    )
    chunk_tokens: int = Field(256, ge=32, le=8192, description="chunk budget, context included")
    chunk_overlap: int = Field(
        32, ge=0, description="tokens repeated between pieces of a split block"
    )
    embedder: str = Field("minilm", description="minilm | st:NAME_OR_PATH | openai:MODEL@URL")
    catalog: str | None = Field(
        None,
        description="the catalog's database: none for catalog.db in the directory (SQLite), or "
        "postgresql://USER:PASSWORD@HOST:PORT/DATABASE (the cluster profile, docs/deploy.md)",
    )
    index: str | None = Field(
        None,
        description="the index: none for the embedded one in the directory (Qdrant Edge), "
        "qdrant://HOST:PORT/COLLECTION[?shards=N&replicas=N&write_consistency=N] for a Qdrant "
        "server or cluster, or qdrant+local:PATH (qdrant-client's local mode, one process)",
    )
    max_file_mb: int = Field(200, ge=1, description="larger files are reported and skipped")
    parse_timeout_s: float = Field(
        60.0, gt=0, description="a file that takes longer to parse and chunk is skipped"
    )
    parse_memory_mb: int = Field(
        1024, ge=64, description="a file whose parsing needs more memory is skipped"
    )
    parse_workers: int | None = Field(
        None, ge=1, description="processes that parse files (default: one per core)"
    )
    reranker: str | None = Field(None, description="directory of an ONNX re-ranker, or st:NAME")
    threads: int | None = Field(None, ge=1, description="CPU threads for models (default: all)")
    generator: str = Field(
        "extractive", description="extractive | openai:MODEL@URL | gguf:PATH[#sha256=HEX]"
    )
    sentence_scorer: str | None = Field(
        None,
        description="directory of an ONNX cross-encoder that scores answer sentences for the "
        "extractive generator (`verirag tune sentences` makes one)",
    )
    quantization: Literal["int8", "none"] = Field(
        "int8",
        description="dense vectors searched as int8 and rescored by the float32 originals "
        "(a quarter of the memory), or searched as they are",
    )
    index_on_disk: bool = Field(
        True,
        description="vectors and payloads memory-mapped from disk (the page cache keeps what "
        "searches touch), or held in memory",
    )
    history_days: float | None = Field(
        90,
        gt=0,
        description="superseded versions stay searchable as of a time this many days back, "
        "then leave the index (the catalog keeps them; `reindex` after raising this brings "
        "them back); none: never compacted",
    )
    prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="model id -> (USD per million input tokens, per million output tokens)",
    )

    @model_validator(mode="after")
    def _overlap_fits(self) -> Config:
        if self.chunk_overlap >= self.chunk_tokens // 2:
            raise ValueError("chunk_overlap must be less than half of chunk_tokens")
        return self

    def stored(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in STORED_FIELDS}

    @classmethod
    def load(cls, directory: Path) -> Config | None:
        path = directory / CONFIG_FILE
        return cls.model_validate_json(path.read_text()) if path.is_file() else None

    def save(self, directory: Path) -> None:
        (directory / CONFIG_FILE).write_text(self.model_dump_json(indent=2) + "\n")

    @classmethod
    def reconcile(cls, directory: Path, given: Config | None = None) -> Config:
        """The settings of the knowledge base in ``directory``: those stored, or ``given``
        (stored on first use). Query-time settings given replace the stored ones; stored
        settings (chunking, embedder) given differently are refused."""
        stored = cls.load(directory)
        if stored is None:
            config = given or cls()
        elif given is not None and given.stored() != stored.stored():
            raise ValueError(
                f"{directory} was made with {stored.stored()}; open it without those "
                "settings, or make a new knowledge base"
            )
        else:
            config = given or stored
        if config != stored:
            config.save(directory)
        return config

    @classmethod
    def configure(cls, directory: Path, **changes: object) -> Config:
        """Change query-time settings of the knowledge base in ``directory`` and store them."""
        stored = cls.load(directory) or cls()
        changed = cls.model_validate(stored.model_dump() | changes)
        if changed.stored() != stored.stored():
            raise ValueError(f"{', '.join(STORED_FIELDS)} are fixed when a knowledge base is made")
        changed.save(directory)
        return changed
