"""MCP tools over a knowledge base: search, ask, get_document, list_documents,
document_history. ``verirag mcp`` serves them on stdio; ``verirag serve`` at ``/mcp/``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, Protocol, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from verirag.access import Principal
from verirag.client import Remote
from verirag.errors import NotFound
from verirag.generation import Answer
from verirag.retrieval import SearchResult
from verirag.server.service import search_json

# Who a tool call runs as, from the HTTP headers of the call (None on stdio).
Resolve = Callable[[Mapping[str, str] | None], Principal]

INSTRUCTIONS = (
    "Search and ask an organisation's documents. Answers cite [n] sources by document, "
    "section, page and version, and say 'The documents don't say' rather than guess."
)


P = ParamSpec("P")
T = TypeVar("T")


def _explained(tool: Callable[P, T]) -> Callable[P, T]:
    """An expected error (a missing document, a bad argument) reaches the client as its
    one-line message, not as "Error executing tool"."""

    @functools.wraps(tool)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return tool(*args, **kwargs)
        except NotFound as exc:
            raise ToolError(str(exc)) from None
        except (ValueError, PermissionError) as exc:
            raise ToolError(str(exc)) from None

    return run


class Tools(Protocol):
    """What the tools call: a :class:`verirag.server.service.Service` in the process that
    owns the knowledge base, or :class:`Proxy` to the server that does."""

    def search(
        self, who: Principal, query: str, *, k: int = 10, as_of: str | None = None
    ) -> list[SearchResult]: ...

    def ask(self, who: Principal, question: str, *, as_of: str | None = None) -> Answer: ...

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

    def ask(self, who: Principal, question: str, *, as_of: str | None = None) -> Answer:
        return self.remote.ask(question, as_of=as_of, groups=who.groups)

    def documents(self, who: Principal) -> list[dict[str, Any]]:
        return list(self.remote.request("GET", "/api/documents", groups=who.groups))

    def version(self, who: Principal, doc_id: str, version: int | None = None) -> dict[str, Any]:
        return dict(self.remote.version_json(doc_id, version, groups=who.groups))

    def document(self, who: Principal, doc_id: str) -> dict[str, Any]:
        return dict(self.remote.request("GET", f"/api/documents/{doc_id}", groups=who.groups))


def build_mcp(service: Tools, resolve: Resolve) -> MCPServer:
    mcp: MCPServer = MCPServer("verirag", instructions=INSTRUCTIONS)

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
    def ask(question: str, ctx: Context, as_of: str | None = None) -> dict[str, Any]:
        """A grounded answer whose sentences cite [n] sources, each checked against what it
        cites; abstains ("The documents don't say ...") when they don't."""
        return service.ask(who(ctx), question, as_of=as_of).to_json()

    @mcp.tool()
    @_explained
    def list_documents(ctx: Context) -> list[dict[str, Any]]:
        """The live documents you may read: id, title, current version, access groups."""
        return service.documents(who(ctx))

    @mcp.tool()
    @_explained
    def get_document(doc_id: str, ctx: Context, version: int | None = None) -> dict[str, Any]:
        """A document version's full text and chunk spans (the current version by default)."""
        return service.version(who(ctx), doc_id, version)

    @mcp.tool()
    @_explained
    def document_history(doc_id: str, ctx: Context) -> dict[str, Any]:
        """Every version of a document with when it was ingested and whether it is current."""
        return service.document(who(ctx), doc_id)

    return mcp
