"""The database a knowledge base keeps (SQLite by default, PostgreSQL by URL): the engine,
its connection settings and the schema version. Only ``verirag.store`` writes its tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select, text, update
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


# What takes a catalog from the schema before each version to it, in SQL both engines run.
_MIGRATIONS: dict[int, list[str]] = {
    2: [
        "ALTER TABLE chunks DROP COLUMN text",
        "CREATE INDEX IF NOT EXISTS ix_versions_valid_to ON versions (valid_to_seq)",
        "CREATE INDEX IF NOT EXISTS ix_commits_at ON commits (at)",
    ],
}


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
                self._migrate(conn, version)

    @staticmethod
    def _migrate(conn: Connection, version: Any) -> None:
        """Bring an older schema to this one in the open transaction; refuse a newer one."""
        if not isinstance(version, int) or not 1 <= version < s.SCHEMA_VERSION:
            raise CatalogError(
                f"catalog schema {version} is newer than this verirag's ({s.SCHEMA_VERSION}): "
                "upgrade verirag to open it"
            )
        key = s.meta.c.key == "schema_version"
        # Write first, so a second process opening the same catalog waits, then sees it done.
        conn.execute(update(s.meta).where(key).values(value=s.meta.c.value))
        version = conn.execute(select(s.meta.c.value).where(key)).scalar_one()
        for step in range(version + 1, s.SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[step]:
                conn.execute(text(statement))
        conn.execute(update(s.meta).where(key).values(value=s.SCHEMA_VERSION))

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
