"""API keys and the principals they stand for; only a SHA-256 of each key is stored.

A key is ``vr_<id>_<secret>`` with a 192-bit random secret: a fast hash is enough for keys
that cannot be guessed (slow hashes are for passwords people choose)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from verirag.access import PUBLIC, Principal
from verirag.errors import NotFound
from verirag.store import schema as s
from verirag.store.db import Database


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    name: str
    groups: list[str]
    admin: bool
    created_at: float
    revoked_at: float | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class KeyStore:
    """The ``api_keys`` table of a knowledge base's catalog."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine

    def create(self, name: str, groups: Sequence[str] = (), *, admin: bool = False) -> str:
        """A new key for ``name``; the key itself is returned once and never stored. A
        non-admin key reads the ``public`` documents and those of its ``groups``."""
        if not name.strip():
            raise ValueError("a key needs a name")
        if not admin and not groups:
            groups = [PUBLIC]
        key_id = secrets.token_hex(4)
        token = f"vr_{key_id}_{secrets.token_urlsafe(24)}"
        with self.engine.begin() as conn:
            conn.execute(
                s.api_keys.insert(),
                {
                    "key_id": key_id,
                    "name": name,
                    "key_hash": _hash(token),
                    "groups": sorted({*groups, PUBLIC}) if not admin else [],
                    "admin": admin,
                    "created_at": time.time(),
                    "revoked_at": None,
                },
            )
        return token

    def verify(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked key; ``None`` otherwise."""
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "vr":
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.api_keys).where(
                    s.api_keys.c.key_id == parts[1], s.api_keys.c.revoked_at.is_(None)
                )
            ).one_or_none()
        if row is None or not hmac.compare_digest(row.key_hash, _hash(token)):
            return None
        # The id, never the name, owns what the key asks: names are not unique.
        groups = None if row.admin else tuple(row.groups)
        return Principal(f"key:{row.key_id}", row.name, groups, admin=row.admin)

    def all(self) -> list[KeyInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.api_keys).order_by(s.api_keys.c.created_at)).all()
        return [
            KeyInfo(r.key_id, r.name, list(r.groups), r.admin, r.created_at, r.revoked_at)
            for r in rows
        ]

    def active(self) -> bool:
        """Whether any key is in force (then every request must carry one)."""
        return any(k.revoked_at is None for k in self.all())

    def revoke(self, key_id: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(s.api_keys)
                .where(s.api_keys.c.key_id == key_id, s.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        if done.rowcount == 0:
            raise NotFound(f"no active key {key_id!r}")
