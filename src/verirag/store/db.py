"""The database a knowledge base keeps (SQLite by default, PostgreSQL by URL): the engine,
its connection settings and the schema version. Only ``verirag.store`` writes its tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite

from verirag.errors import VeriragError
from verirag.store import schema as s


class CatalogError(VeriragError):
    """The database cannot be used as it is (a schema from another verirag)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer. NORMAL: a killed process loses no committed
    # transaction (only an OS crash or power cut can lose the last ones).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """One engine per database; tables made on first use, the schema version checked."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        s.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            found = conn.execute(select(s.meta.c.value).where(s.meta.c.key == "schema_version"))
            version = found.scalar_one_or_none()
            if version is None:
                conn.execute(s.meta.insert().values(key="schema_version", value=s.SCHEMA_VERSION))
            elif version != s.SCHEMA_VERSION:
                raise CatalogError(
                    f"catalog schema {version} is not {s.SCHEMA_VERSION}; migrate it"
                )

    @classmethod
    def sqlite(cls, path: str | Path) -> Database:
        """The SQLite file at ``path``."""
        return cls(f"sqlite:///{Path(path)}")

    def close(self) -> None:
        self.engine.dispose()


def insert_ignore(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those whose key is already there."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)
