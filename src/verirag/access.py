"""The access rule, in one place: who a request runs as, and which versions it may read.

A principal reads a document's version only if it may read that version *and* the
document's current state (its last live version, for a removed document): restricting a
document is retroactive, loosening it is not. Every principal reads ``public``. The index
query, every catalog read, the server, MCP and the OpenAI endpoint apply this module's rule;
nothing else decides access.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from verirag.errors import NotFound

PUBLIC = "public"


def normalise(groups: Iterable[str] | None) -> tuple[str, ...] | None:
    """A principal's groups, sorted, always with ``public``; ``None`` (the trusted local
    owner, who reads everything) stays ``None``."""
    if groups is None:
        return None
    if isinstance(groups, str):
        raise TypeError("groups is a sequence of group names, not one string")
    return tuple(sorted({*(g for g in groups if g), PUBLIC}))


def may_read(groups: Sequence[str] | None, access: Sequence[str]) -> bool:
    """Whether a principal of ``groups`` (normalised) may read something labelled ``access``."""
    return groups is None or bool(set(access) & set(groups))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request runs as. ``id`` owns records (answers, evaluation runs) and is unique:
    ``key:<key id>`` for an API key, ``local`` for the owner of a keyless server or the
    command line. ``name`` is for display only. ``groups`` ``None`` reads everything."""

    id: str
    name: str
    groups: tuple[str, ...] | None
    admin: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", normalise(self.groups))

    def sees(self, access: Sequence[str]) -> bool:
        return may_read(self.groups, access)

    def owns(self, owner: str | None) -> bool:
        """Whether a record owned by ``owner`` is this principal's to read (admins: all)."""
        return self.admin or owner == self.id


LOCAL = Principal("local", "local", None, admin=True)


def local(groups: Sequence[str] | None = None) -> Principal:
    """The command line's principal: the owner, or a reader of ``groups`` (``--group``)."""
    if groups is None:
        return LOCAL
    return Principal("local", "local", tuple(groups))


def not_found(doc_id: str, version: int | None = None) -> NotFound:
    """The one answer for a document (or version) that is missing *or* forbidden: the same
    message either way, so nothing reveals that a restricted one exists."""
    if version is None:
        return NotFound(f"no document {doc_id!r}")
    return NotFound(f"no version {version} of {doc_id!r}")
