"""A throwaway PostgreSQL server for the catalog tests: Debian's binaries, a cluster made with
``initdb`` in a temporary directory, listening on 127.0.0.1 only, stopped when the tests end.
``./test.sh`` installs the ``postgresql`` package where it is missing."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here (the reason says why)."""


def _bindir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not debian:
        raise Unavailable("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    return Path(debian[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(command: list[str], user: str | None) -> list[str]:
    # initdb and postgres refuse to run as root: run them as Debian's ``postgres`` user.
    return command if user is None else ["runuser", "-u", user, "--", *command]


@contextmanager
def server() -> Iterator[str]:
    """Start a server; yields its URL without a database name (``postgresql://...:PORT/``)."""
    bindir = _bindir()
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            raise Unavailable("running as root and there is no postgres user") from None
    home = Path(tempfile.mkdtemp(prefix="verirag-pg-"))
    data, sockets = home / "data", home / "run"
    sockets.mkdir()
    if user is not None:
        shutil.chown(home, user)
        shutil.chown(sockets, user)
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                user,
            ),
            **run,  # type: ignore[call-overload]
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off"
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(home / "log"),
                    "-o",
                    options,
                    "-w",
                    "start",
                ],
                user,
            ),
            **run,  # type: ignore[call-overload]
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        log = home / "log"
        detail = log.read_text()[-500:] if log.is_file() else getattr(exc, "stderr", "")
        shutil.rmtree(home, ignore_errors=True)
        raise Unavailable(f"PostgreSQL did not start: {exc} {detail}".strip()) from exc
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/"
    finally:
        subprocess.run(
            _as_server_user(
                [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user
            ),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(home, ignore_errors=True)


def new_database(base: str) -> str:
    """A new, empty database on the server at ``base``; its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base + "postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base + name
