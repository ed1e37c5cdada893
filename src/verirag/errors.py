"""verirag's exceptions: one hierarchy, so every door (CLI, HTTP, MCP) answers by type. A
built-in ``KeyError`` or ``ValueError`` from a bug is not one of these, and the server answers
it as what it is (a 500 with its traceback logged), never as "not found"."""

from __future__ import annotations


class VeriragError(Exception):
    """Base of the errors verirag raises on purpose."""


class NotFound(VeriragError, KeyError):
    """Missing, or not readable by the caller: the two are never told apart (HTTP 404)."""

    def __str__(self) -> str:  # KeyError's own quotes the message
        return str(self.args[0]) if self.args else "not found"


class InvalidInput(VeriragError, ValueError):
    """A request verirag will not run: a query over its limits, a malformed filter (422)."""


class OutsideHistory(InvalidInput):
    """An as-of time older than the history the index keeps (``history_days``): the catalog
    still has those versions; raising the setting and running ``reindex`` brings them back."""


class Forbidden(VeriragError, PermissionError):
    """The caller may not do this: only admins manage documents and keys (403)."""
