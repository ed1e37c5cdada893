"""Tabular and record data: CSV rows with their header, JSON and JSON Lines records."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, ClassVar

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    ParseError,
    TextBuilder,
    decode_text,
    stem,
)

_LABEL_KEYS = ("title", "name", "id", "_id", "key")


MAX_COLUMNS = 2048


def _flatten(value: Any, prefix: str = "") -> list[str]:
    """``key.sub: value`` lines, so every record reads on its own."""
    if isinstance(value, dict):
        lines: list[str] = []
        for key, sub in value.items():
            lines.extend(_flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return lines
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        lines = []
        for i, sub in enumerate(value):
            lines.extend(_flatten(sub, f"{prefix}[{i}]"))
        return lines
    if isinstance(value, list):
        rendered = ", ".join(str(v) for v in value)
    else:
        rendered = "" if value is None else str(value)
    return [f"{prefix}: {rendered}" if prefix else rendered]


def _label(record: Any, index: int) -> str:
    if isinstance(record, dict):
        for key in _LABEL_KEYS:
            if isinstance(record.get(key), str | int) and str(record[key]).strip():
                return str(record[key]).strip()[:80]
    return f"[{index}]"


class CSVParser:
    suffixes: ClassVar[tuple[str, ...]] = (".csv", ".tsv")

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        source = decode_text(data)
        if name.lower().endswith(".tsv"):
            dialect: Any = csv.excel_tab
        else:
            try:
                dialect = csv.Sniffer().sniff(source[:8192], delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
        reader = csv.reader(io.StringIO(source), dialect)
        try:
            header = [h.strip() for h in next(reader)]
        except (StopIteration, csv.Error) as exc:
            raise ParseError("no header row") from exc
        if len(header) > MAX_COLUMNS:
            # Every cell is labelled with its header: a row a million columns wide is a
            # chunking job of hours, not a table anyone reads.
            raise ParseError(f"{len(header)} columns (the limit is {MAX_COLUMNS})")
        out = TextBuilder()
        previous_line = reader.line_num
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    pairs = [
                        f"{h or f'column {i + 1}'}: {v.strip()}"
                        for i, (h, v) in enumerate(zip(header, row, strict=False))
                    ]
                    out.add(
                        " | ".join(pairs), BlockKind.ROW, lines=(previous_line + 1, reader.line_num)
                    )
                previous_line = reader.line_num
        except csv.Error as exc:
            raise ParseError(f"malformed CSV at line {reader.line_num}: {exc}") from exc
        return out.build(stem(name), "csv", {"columns": header})


class JSONParser:
    suffixes: ClassVar[tuple[str, ...]] = (".json", ".jsonl", ".ndjson")

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        source = decode_text(data)
        out = TextBuilder()
        if name.lower().endswith((".jsonl", ".ndjson")):
            for number, line in enumerate(source.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ParseError(f"invalid JSON on line {number}: {exc.msg}") from exc
                out.add(
                    "\n".join(_flatten(record)),
                    BlockKind.RECORD,
                    (_label(record, number),),
                    lines=(number, number),
                )
            return out.build(stem(name), "jsonl")
        try:
            value = json.loads(source)
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
        records = value if isinstance(value, list) else [value]
        for i, record in enumerate(records):
            section = (_label(record, i),) if len(records) > 1 else ()
            out.add("\n".join(_flatten(record)), BlockKind.RECORD, section)
        return out.build(stem(name), "json")
