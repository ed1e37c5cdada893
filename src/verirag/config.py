"""Knowledge-base settings, stored beside the catalog: every run chunks and embeds alike."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CONFIG_FILE = "verirag.json"
CATALOG_FILE = "catalog.db"
INDEX_DIR = "index"

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
    max_file_mb: int = Field(200, ge=1, description="larger files are reported and skipped")
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
