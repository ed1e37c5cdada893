"""A whole database copied into another (``verirag migrate``): every table, row for row, so
documents, versions, history, audit, keys, evaluation runs, jobs and the embedding cache
arrive as they were, commit numbers included. The index is not copied: it is derived, and the
destination builds it from the catalog and the copied vectors."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from verirag.errors import InvalidInput
from verirag.store import schema as s
from verirag.store.db import Database, redact

BATCH = 2000


def copy_database(
    source: Database, target: Database, on_table: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every row of ``source`` into the empty ``target`` in one transaction (a failed
    copy leaves the target empty); returns the rows copied per table."""
    copied: dict[str, int] = {}
    with source.engine.connect() as read, target.engine.begin() as write:
        for table in s.metadata.sorted_tables:  # parents before the rows that refer to them
            query = select(func.count()).select_from(table)
            if table is s.meta:
                query = query.where(s.meta.c.key != "schema_version")
            if write.execute(query).scalar():
                raise InvalidInput(
                    f"{redact(target.url)} already holds a knowledge base ({table.name}): "
                    "migrate into an empty database"
                )
        for table in s.metadata.sorted_tables:
            rows = select(table).order_by(*table.primary_key.columns)
            if table is s.meta:
                rows = rows.where(s.meta.c.key != "schema_version")
            n = 0
            result = read.execution_options(yield_per=BATCH).execute(rows)
            for part in result.mappings().partitions(BATCH):
                write.execute(table.insert(), [dict(r) for r in part])
                n += len(part)
            copied[table.name] = n
            if on_table is not None:
                on_table(table.name, n)
    return copied
