"""Serving: the HTTP server, MCP over stdio, API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    pass

from verirag.cli.app import (
    app,
    err,
    open_kb,
    out,
    when,
)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port")] = 8000,
    max_body_mb: Annotated[int, typer.Option(min=1, help="largest request body")] = 50,
) -> None:
    """The HTTP server: REST API (/docs), web UI (/), OpenAI-compatible chat (/v1), MCP
    (/mcp/) and Prometheus metrics (/metrics). Without API keys it binds to 127.0.0.1 only."""
    import uvicorn

    from verirag.server import create_app

    kb = open_kb()
    if not kb.keys.active() and host not in LOOPBACK:
        err.print(
            f"[yellow]No API keys: every request would run as admin, so binding to 127.0.0.1 "
            f"instead of {host}. Create one with `verirag keys create NAME --admin`.[/yellow]"
        )
        host = "127.0.0.1"
    err.print(f"verirag serving {kb.path} on http://{host}:{port}/")
    try:
        uvicorn.run(create_app(kb, max_body_mb=max_body_mb), host=host, port=port)
    finally:
        kb.close()


@app.command()
def mcp(
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="read only documents of these access groups (repeatable)"),
    ] = None,
) -> None:
    """An MCP server on stdio with the tools search, ask, get_document, list_documents and
    document_history."""
    from verirag.access import local
    from verirag.server.mcp import build_mcp
    from verirag.server.service import Service

    who = local(group)
    with open_kb() as kb:
        build_mcp(Service(kb), lambda _headers: who).run("stdio")


keys_app = typer.Typer(help="API keys of the HTTP server.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="who the key is for")],
    group: Annotated[
        list[str] | None, typer.Option("--groups", "--group", help="access groups (repeatable)")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="may read everything, manage")] = False,
) -> None:
    """A new API key; it is printed once and only its hash is stored. A key reads public
    documents and those of its groups; an admin key reads all and manages documents and keys."""

    with open_kb() as kb:
        token = kb.keys.create(name, group or [], admin=admin)
    out.print(token)


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, name, groups, admin, created, revoked."""

    table = Table("id", "name", "groups", "admin", "created", "revoked")
    with open_kb() as kb:
        for k in kb.keys.all():
            table.add_row(
                k.key_id,
                k.name,
                ", ".join(k.groups),
                "yes" if k.admin else "",
                when(k.created_at),
                when(k.revoked_at),
            )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="key id (see keys list)")]) -> None:
    """Revoke a key: requests carrying it are refused from now on."""

    with open_kb() as kb:
        try:
            kb.keys.revoke(key_id)
        except KeyError as exc:
            err.print(f"[red]{exc.args[0]}[/red]")
            raise typer.Exit(1) from None
    out.print(f"revoked {key_id}")
