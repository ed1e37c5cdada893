"""The database a knowledge base keeps (SQLite by default, PostgreSQL by URL): the engine,
its connection settings and the schema version. Only ``verirag.store`` writes its tables.

On PostgreSQL several processes share one catalog: commits are serialised by a transaction-level
advisory lock (:meth:`Database.serialise_commits`), so sequence numbers are gap-free in commit
order, and the index writer of a knowledge base holds a session-level one
(:meth:`Database.writer_lock`)."""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from verirag.errors import VeriragError
from verirag.store import schema as s


class CatalogError(VeriragError):
    """The database cannot be used as it is (a schema from another verirag, a server that
    cannot be reached)."""


class WriterBusy(VeriragError):
    """Another process is the index writer of this knowledge base."""


def _lock_key(name: str) -> int:
    """A stable 63-bit advisory-lock key for ``name``."""
    return zlib.crc32(f"verirag:{name}".encode()) | (0x7E5A << 32)


_COMMIT_LOCK = _lock_key("commits")
_SCHEMA_LOCK = _lock_key("schema")


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path)}"


def engine_url(url: str) -> str:
    """The SQLAlchemy URL of a catalog URL: ``postgresql://`` is driven by psycopg 3."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


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
        sqlalchemy_url = engine_url(url)
        # A connection the server dropped (a restart, a failover) is replaced, not used.
        remote = {"pool_pre_ping": True} if sqlalchemy_url.startswith("postgresql") else {}
        self.engine: Engine = create_engine(sqlalchemy_url, **remote)
        self.postgres = self.engine.dialect.name == "postgresql"
        if not self.postgres:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            self._prepare()
        except OperationalError as exc:
            self.engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise CatalogError(f"cannot open the catalog {redact(url)}: {reason}") from None

    def _prepare(self) -> None:
        """Make the tables on first use and check (or migrate) the schema version; on
        PostgreSQL under a lock, so processes starting together do it once."""
        with self.engine.begin() as conn:
            if self.postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
            s.metadata.create_all(conn)
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
        return cls(sqlite_url(path))

    def serialise_commits(self, conn: Connection) -> None:
        """Hold back every other process's catalog commit until ``conn``'s transaction ends
        (SQLite's single writer does this on its own)."""
        if self.postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _COMMIT_LOCK})

    def clock(self, conn: Connection) -> float:
        """Now, in unix time, by the database's clock on PostgreSQL: commits made on several
        machines are timed by one clock, so times rise with commit numbers."""
        if self.postgres:
            return float(
                conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one()
            )
        return time.time()

    @contextlib.contextmanager
    def writer_lock(self, name: str, *, wait: bool = False) -> Iterator[None]:
        """Be the only process that holds ``name`` (the index writer of a knowledge base)
        while the block runs: wait for it, or (``wait=False``) raise :class:`WriterBusy`.
        Held by a connection of its own: a killed holder's lock goes with its connection.
        A no-op on SQLite, whose knowledge base one process owns
        (:class:`verirag.owner.OwnerLock`)."""
        if not self.postgres:
            yield
            return
        key = _lock_key(f"writer:{name}")
        with self.engine.connect() as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            taken = wait or bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            )
            conn.commit()
            if not taken:
                raise WriterBusy(f"another process is the index writer of {name}")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()

    def close(self) -> None:
        self.engine.dispose()


def insert_ignore(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those whose key is already there."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)
