"""API keys in a real catalog: only hashes stored, verified, revoked."""

from __future__ import annotations

from sqlalchemy import select

from verirag import KnowledgeBase, Principal
from verirag.store import schema as s


def test_keys_are_stored_hashed_and_map_to_principals(kb: KnowledgeBase) -> None:
    keys = kb.keys
    assert not keys.active()
    token = keys.create("hana", ["hr"])
    admin = keys.create("root", admin=True)
    assert keys.active()
    with kb.store.db.engine.connect() as conn:
        stored = conn.execute(select(s.api_keys)).all()
    assert all(token not in str(tuple(row)) for row in stored)
    hana_id, root_id = (f"key:{k.key_id}" for k in keys.all())
    assert keys.verify(token) == Principal(hana_id, "hana", ("hr", "public"))
    assert keys.verify(admin) == Principal(root_id, "root", None, admin=True)
    # A wrong secret with a real key id, and junk, are both refused.
    assert keys.verify(token[:-2] + "xx") is None
    assert keys.verify("not-a-key") is None


def test_a_revoked_key_is_refused(kb: KnowledgeBase) -> None:
    keys = kb.keys
    token = keys.create("otto")
    (info,) = keys.all()
    assert info.groups == ["public"]
    keys.revoke(info.key_id)
    assert keys.verify(token) is None
    assert not keys.active()
