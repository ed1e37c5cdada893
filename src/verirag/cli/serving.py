"""Serving: the HTTP server, MCP over stdio, API keys."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

if TYPE_CHECKING:
    from verirag.kb import KnowledgeBase

from verirag.cli.app import (
    app,
    err,
    open_kb,
    open_local,
    out,
    when,
)
from verirag.owner import ServerInfo

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port")] = 8000,
    max_body_mb: Annotated[int, typer.Option(min=1, help="largest request body")] = 50,
    watch: Annotated[
        list[Path] | None,
        typer.Option("--watch", help="mirror and follow this folder (repeatable)"),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="server processes; more than 1 needs the catalog on PostgreSQL"),
    ] = 1,
) -> None:
    """The HTTP server: REST API (/docs), web UI (/), OpenAI-compatible chat (/v1), MCP
    (/mcp/) and Prometheus metrics (/metrics). Without API keys it binds to 127.0.0.1 only.
    While it runs it owns the knowledge base: the CLI and `verirag mcp` go through it.
    With --workers N (the cluster profile, docs/deploy.md) N processes share the socket and
    uploads wait in the catalog's queue for `verirag worker`."""
    folders = watch or []
    for folder in folders:
        if not folder.is_dir():
            raise typer.BadParameter(f"{folder} is not a directory", param_hint="--watch")
    if workers > 1 and folders:
        raise typer.BadParameter("a folder is followed by one process: drop --workers")
    kb = open_local()  # Busy (one line) when another process owns it
    try:
        if not kb.keys.active() and host not in LOOPBACK:
            err.print(
                f"[yellow]No API keys: every request would run as admin, so binding to "
                f"127.0.0.1 instead of {host}. Create one with `verirag keys create NAME "
                f"--admin`.[/yellow]"
            )
            host = "127.0.0.1"
        if workers == 1:
            _serve_one(kb, host, port, max_body_mb, folders)
            return
        from verirag.server.workers import check_profile

        check_profile(kb.config)
    finally:
        kb.close()  # with --workers, each process opens it for itself
    _serve_workers(kb.path, host, port, max_body_mb, workers)


def _serve_one(
    kb: KnowledgeBase, host: str, port: int, max_body_mb: int, folders: list[Path]
) -> None:
    import uvicorn

    from verirag.server import create_app

    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    owner = ServerInfo(f"http://{local}:{port}", secrets.token_urlsafe(32), os.getpid())
    server = create_app(kb, max_body_mb=max_body_mb, owner=owner)
    for folder in folders:
        server.state.service.watch(str(folder.resolve()))
    err.print(f"verirag serving {kb.path} on http://{host}:{port}/")
    uvicorn.run(server, host=host, port=port)


def _serve_workers(path: Path, host: str, port: int, max_body_mb: int, n: int) -> None:
    """``n`` processes, each opening the knowledge base for itself."""
    import uvicorn

    from verirag.server import workers

    os.environ[workers.SETTINGS_ENV] = workers.settings(path, max_body_mb)
    err.print(f"verirag serving {path} on http://{host}:{port}/ with {n} processes")
    uvicorn.run("verirag.server.workers:app", factory=True, host=host, port=port, workers=n)


@app.command()
def worker(
    lease: Annotated[
        float, typer.Option(min=1.0, help="seconds without a heartbeat before a job is retried")
    ] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="stop when the queue is empty")] = False,
) -> None:
    """An ingestion worker: takes upload jobs from the catalog's queue until stopped (Ctrl-C
    or SIGTERM). Run any number, on any machine that reaches the catalog and the index
    (docs/deploy.md)."""
    import logging
    import signal

    from verirag.worker import work

    def terminated(*_: object) -> None:
        raise KeyboardInterrupt  # as Ctrl-C: stop now, close the knowledge base

    # A service manager stops it with SIGTERM; a job it leaves is retried after its lease.
    signal.signal(signal.SIGTERM, terminated)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    kb = open_local()
    try:
        err.print(f"verirag worker on {kb.path}")
        finished = work(kb, lease_s=lease, once=once)
        err.print(f"{finished} jobs done")
    except KeyboardInterrupt:
        pass
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
    document_history (through the running server, when one owns the knowledge base)."""
    from verirag.access import local
    from verirag.client import Remote
    from verirag.server.mcp import Proxy, build_mcp
    from verirag.server.service import Service

    who = local(group)
    with open_kb() as kb:
        tools = Proxy(kb) if isinstance(kb, Remote) else Service(kb)
        build_mcp(tools, lambda _headers: who).run("stdio")


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
