"""Knowledge-base settings, stored beside the catalog so every run chunks the same way."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

CONFIG_FILE = "verirag.json"
CATALOG_FILE = "catalog.db"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tokenizer: str = Field("all-MiniLM-L6-v2", description="the embedder's tokenizer")
    chunk_tokens: int = Field(256, ge=32, le=8192, description="chunk budget, context included")
    chunk_overlap: int = Field(
        32, ge=0, description="tokens repeated between pieces of a split block"
    )
    max_file_mb: int = Field(200, ge=1, description="larger files are reported and skipped")

    @model_validator(mode="after")
    def _overlap_fits(self) -> Config:
        if self.chunk_overlap >= self.chunk_tokens // 2:
            raise ValueError("chunk_overlap must be less than half of chunk_tokens")
        return self

    @classmethod
    def load(cls, directory: Path) -> Config | None:
        path = directory / CONFIG_FILE
        return cls.model_validate_json(path.read_text()) if path.is_file() else None

    def save(self, directory: Path) -> None:
        (directory / CONFIG_FILE).write_text(self.model_dump_json(indent=2) + "\n")
