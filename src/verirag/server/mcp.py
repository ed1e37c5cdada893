"""MCP tools over a knowledge base: search, ask, get_document, list_documents,
document_history. ``verirag mcp`` serves them on stdio; ``verirag serve`` at ``/mcp/``."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import version as package_version
from typing import Any, ParamSpec, Protocol, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from verirag.access import Principal
from verirag.client import Remote
from verirag.errors import Forbidden, NotFound
from verirag.generation import Answer
from verirag.retrieval import SearchResult
from verirag.server.service import search_json

# Who a tool call runs as, from the HTTP headers of the call (None on stdio).
Resolve = Callable[[Mapping[str, str] | None], Principal]

INSTRUCTIONS = (
    "Search and ask an organisation's documents. Answers cite [n] sources by document, "
    "section, page and version, and say 'The documents don't say' rather than guess."
)


PAGE = 50  # documents per list_documents page, by default
MAX_PAGE = 500
WINDOW = 20_000  # characters of a document per get_document call, by default

P = ParamSpec("P")
T = TypeVar("T")


def _explained(tool: Callable[P, T]) -> Callable[P, T]:
    """An expected error reaches the client as one line saying what kind it is (``not
    found``, ``forbidden``, ``invalid argument``), with no traceback on the server."""

    @functools.wraps(tool)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return tool(*args, **kwargs)
        except NotFound as exc:
            raise ToolError(f"not found: {exc}") from None
        except (Forbidden, PermissionError) as exc:
            raise ToolError(f"forbidden: {exc}") from None
        except ValueError as exc:
            raise ToolError(f"invalid argument: {exc}") from None

    return run


def _cursor(doc_id: str) -> str:
    return base64.urlsafe_b64encode(doc_id.encode()).decode("ascii")


def _after(cursor: str) -> str:
    try:
        after = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        after = None
    if after is None or _cursor(after) != cursor:
        raise ValueError(f"cursor {cursor!r} is not one list_documents gave")
    return after


def page(documents: list[dict[str, Any]], cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of ``documents`` by id, after ``cursor``, and the cursor of the next."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}")
    listed = sorted(documents, key=lambda d: str(d["doc_id"]))
    if cursor is not None:
        after = _after(cursor)
        listed = [d for d in listed if str(d["doc_id"]) > after]
    shown = listed[:limit]
    more = len(listed) > limit
    return {
        "documents": shown,
        "total": len(documents),
        "next_cursor": _cursor(str(shown[-1]["doc_id"])) if more else None,
    }


def window(version: dict[str, Any], offset: int, length: int) -> dict[str, Any]:
    """A version's text from ``offset`` for ``length`` characters, with the spans of the
    chunks it overlaps (their text is the document's, so it is not repeated)."""
    if offset < 0 or not 1 <= length <= 10 * WINDOW:
        raise ValueError(f"offset must be >= 0 and length 1 to {10 * WINDOW}")
    text = version.get("text") or ""
    end = min(offset + length, len(text))
    chunks = [
        {k: v for k, v in c.items() if k not in ("text", "context")}
        for c in version.get("chunks", [])
        if c["char_start"] < end and c["char_end"] > offset
    ]
    return {
        **{k: v for k, v in version.items() if k not in ("text", "chunks")},
        "text": text[offset:end],
        "offset": offset,
        "text_chars": len(text),
        "next_offset": end if end < len(text) else None,
        "chunks": chunks,
    }


class Tools(Protocol):
    """What the tools call: a :class:`verirag.server.service.Service` in the process that
    owns the knowledge base, or :class:`Proxy` to the server that does."""

    def search(
        self, who: Principal, query: str, *, k: int = 10, as_of: str | None = None
    ) -> list[SearchResult]: ...

    def ask(
        self,
        who: Principal,
        question: str,
        *,
        as_of: str | None = None,
        history: Sequence[str] = (),
    ) -> Answer: ...

    def documents(self, who: Principal) -> list[dict[str, Any]]: ...

    def version(
        self, who: Principal, doc_id: str, version: int | None = None
    ) -> dict[str, Any]: ...

    def document(self, who: Principal, doc_id: str) -> dict[str, Any]: ...


class Proxy:
    """The tools through a running server's API (``verirag mcp`` on a served knowledge
    base), as the local owner reading as ``who``'s groups."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    def search(
        self, who: Principal, query: str, *, k: int = 10, as_of: str | None = None
    ) -> list[SearchResult]:
        return self.remote.search(query, k=k, as_of=as_of, groups=who.groups)

    def ask(
        self,
        who: Principal,
        question: str,
        *,
        as_of: str | None = None,
        history: Sequence[str] = (),
    ) -> Answer:
        return self.remote.ask(question, as_of=as_of, groups=who.groups, history=history)

    def documents(self, who: Principal) -> list[dict[str, Any]]:
        return list(self.remote.request("GET", "/api/documents", groups=who.groups))

    def version(self, who: Principal, doc_id: str, version: int | None = None) -> dict[str, Any]:
        return dict(self.remote.version_json(doc_id, version, groups=who.groups))

    def document(self, who: Principal, doc_id: str) -> dict[str, Any]:
        return dict(self.remote.request("GET", f"/api/documents/{doc_id}", groups=who.groups))


def build_mcp(service: Tools, resolve: Resolve) -> MCPServer:
    mcp: MCPServer = MCPServer(
        "verirag", instructions=INSTRUCTIONS, version=package_version("verirag")
    )

    def who(ctx: Context) -> Principal:
        return resolve(ctx.headers)

    @mcp.tool()
    @_explained
    def search(
        query: str, ctx: Context, k: int = 10, as_of: str | None = None
    ) -> list[dict[str, Any]]:
        """The k best passages for a query, each with document, version, section and scores.
        as_of (ISO 8601) searches the versions that were current then."""
        results = service.search(who(ctx), query, k=k, as_of=as_of)
        return [search_json(r) for r in results]

    @mcp.tool()
    @_explained
    def ask(
        question: str,
        ctx: Context,
        as_of: str | None = None,
        history: list[str] | None = None,
    ) -> dict[str, Any]:
        """A grounded answer whose sentences cite [n] sources, each checked against what it
        cites; abstains ("The documents don't say ...") when they don't. For a follow-up,
        pass the conversation's earlier questions (oldest first) as ``history``: it is
        answered as the standalone question made from them (``standalone_question``)."""
        return service.ask(who(ctx), question, as_of=as_of, history=history or ()).to_json()

    @mcp.tool()
    @_explained
    def list_documents(
        ctx: Context, cursor: str | None = None, limit: int = PAGE
    ) -> dict[str, Any]:
        """The live documents you may read (id, title, current version, access groups), by
        id, ``limit`` at a time: pass ``next_cursor`` back as ``cursor`` for the next page."""
        return page(service.documents(who(ctx)), cursor, limit)

    @mcp.tool()
    @_explained
    def get_document(
        doc_id: str,
        ctx: Context,
        version: int | None = None,
        offset: int = 0,
        length: int = WINDOW,
    ) -> dict[str, Any]:
        """A document version's text (the current version by default) from ``offset`` for
        ``length`` characters, with the chunk spans in it; ``next_offset`` continues it."""
        return window(service.version(who(ctx), doc_id, version), offset, length)

    @mcp.tool()
    @_explained
    def document_history(doc_id: str, ctx: Context) -> dict[str, Any]:
        """Every version of a document with when it was ingested and whether it is current."""
        return service.document(who(ctx), doc_id)

    return mcp
