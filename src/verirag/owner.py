"""One owner per knowledge base: a process takes an exclusive lock on the directory before it
opens any other file in it, and holds it while the knowledge base is open. A server that owns
one also leaves a file, readable by its owner only, saying how to reach it: the CLI and
``verirag mcp`` then go through the server instead of opening the files themselves. Inside the
owner, :class:`Readers` lets searches share the index while a rebuilt one is switched in."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from verirag.errors import VeriragError

LOCK_FILE = "owner.lock"
SERVER_FILE = "server.json"


class Busy(VeriragError):
    """Another process owns the knowledge base."""


class Readers:
    """Any number of threads :meth:`reading` at once; :meth:`exclusive` waits for those in
    progress and holds new ones back until it is done. Not reentrant: a reader must not start
    another read, nor wait for anything the exclusive holder holds."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._active = 0
        self._exclusive = False

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._changed:
            while self._exclusive:
                self._changed.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._changed:
                self._active -= 1
                if not self._active:
                    self._changed.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._changed:
            while self._exclusive:
                self._changed.wait()
            self._exclusive = True
            while self._active:
                self._changed.wait()
        try:
            yield
        finally:
            with self._changed:
                self._exclusive = False
                self._changed.notify_all()


class OwnerLock:
    """An exclusive ``flock`` on ``directory/owner.lock``: released by :meth:`release` or
    when the process ends, however it ends (the kernel drops it), so it is never stale."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`Busy` naming the process that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Busy(f"{self.path.parent} is in use by {holder(self.path.parent)}") from None
        # Who holds it, for the message another process prints.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {' '.join(_command())}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.ftruncate(fd, 0)
            os.close(fd)  # closing drops the flock


def holder(directory: Path) -> str:
    """The process holding ``directory``'s lock, as its lock file names it."""
    try:
        pid, _, command = (directory / LOCK_FILE).read_text().strip().partition(" ")
    except OSError:
        return "another process"
    return f"process {pid} ({command})" if pid else "another process"


def _command() -> list[str]:
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["python"]
    return argv[:6]


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """How to reach the server that owns a knowledge base: its address and a credential that
    acts as the local owner (an admin that reads everything), valid while it runs."""

    url: str
    token: str
    pid: int


def write_server(directory: Path, info: ServerInfo) -> Path:
    """``directory/server.json``, mode 0600 from its creation (written whole, then renamed)."""
    path = directory / SERVER_FILE
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(info), handle)
    os.replace(tmp, path)
    return path


def read_server(directory: Path) -> ServerInfo | None:
    """The server file's contents, or ``None`` when there is none (or it is not ours to read)."""
    try:
        data = json.loads((directory / SERVER_FILE).read_text())
        return ServerInfo(str(data["url"]), str(data["token"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_server(directory: Path) -> None:
    with contextlib.suppress(OSError):
        (directory / SERVER_FILE).unlink()
