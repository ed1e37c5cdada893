"""Parsing and chunking in worker processes, each file under a time cap and a memory cap.

A hostile or broken file (a zip bomb, pathological nesting, a table a million columns wide)
costs one worker its task, never the batch: the worker that runs past the time cap is killed
and replaced, one that runs out of its memory cap fails that file, and the file is reported
with the reason. The workers also spread parsing over every core. Pebble's process pool does
the killing and replacing; workers fork from a clean server process (``forkserver``), never
from a parent that already runs model threads.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pebble

from verirag import documents
from verirag.chunking import Chunk, Chunker, load_chunker
from verirag.documents import stem


@dataclass(frozen=True, slots=True)
class ChunkerSpec:
    """How to build the chunker (picklable, so a worker builds its own)."""

    tokenizer: str
    kind: str = "structure"  # or "fixed"
    tokens: int = 256
    overlap: int = 32

    def build(self) -> Chunker:
        return load_chunker(self.tokenizer, self.kind, self.tokens, self.overlap)


@dataclass(frozen=True, slots=True)
class Job:
    """One file to parse: its bytes, its name (the suffix picks the parser) and what the
    parsed title should be (``title``: given; ``from_file``: a text record has none)."""

    doc_id: str
    data: bytes
    name: str
    title: str | None = None
    from_file: bool = True


@dataclass(frozen=True, slots=True)
class Parsed:
    text: str
    title: str
    format: str
    chunks: list[Chunk]


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str


_CHUNKERS: dict[ChunkerSpec, Chunker] = {}


def parse_and_chunk(job: Job, spec: ChunkerSpec, memory_bytes: int | None = None) -> Parsed:
    """Parse ``job`` and cut it into chunks, with at most ``memory_bytes`` more resident
    memory than the process had (a worker's cap; ``None``: no cap)."""
    if memory_bytes is None:
        return _parse_and_chunk(job, spec)
    # Only the parse runs under the cap: the worker must still be able to receive its next
    # task and send back this one's result (or its MemoryError) after it.
    with _memory_cap(memory_bytes):
        return _parse_and_chunk(job, spec)


_POLL_S = 0.01
_WALL_HEADROOM = 512 * 2**20


@contextlib.contextmanager
def _memory_cap(limit: int) -> Iterator[None]:
    """At most ``limit`` more resident memory in the block: a watchdog thread raises
    MemoryError in this one once it is over (it looks every 10 ms). An address-space wall
    ``limit`` + 512 MB up stops an allocation too quick for the watchdog. The wall is the
    backstop, not the cap: CPython can spin for good unwinding a MemoryError raised at a
    wall with no room left (seen on CSV parsing), and reserved but unused address space
    (malloc arenas, thread stacks) would count against a wall-only cap."""
    cap = _resident() + limit
    target, stop = threading.get_ident(), threading.Event()

    def watch() -> None:
        while not stop.wait(_POLL_S):
            if _resident() > cap:
                _raise_in(target, MemoryError)
                return

    watchdog = threading.Thread(target=watch, name="memory-cap", daemon=True)
    watchdog.start()  # before the wall: its stack and arena are outside the budget
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + limit + _WALL_HEADROOM, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        stop.set()
        watchdog.join()
        _raise_in(target, None)  # one raised as the block ended is not delivered later


def _raise_in(thread_id: int, error: type[BaseException] | None) -> None:
    """Raise ``error`` in the thread (at its next bytecode); ``None`` withdraws one."""
    exc = ctypes.py_object(error) if error is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exc)


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field))


def _address_space() -> int:
    return _status("VmSize")


def _resident() -> int:
    return _status("VmRSS")


def _parse_and_chunk(job: Job, spec: ChunkerSpec) -> Parsed:
    parsed = documents.parse(job.data, job.name)
    if job.title:
        # A given title is the document's context: every chunk's breadcrumb starts with it.
        parsed = replace(parsed, title=job.title)
    elif not job.from_file and parsed.title == stem(job.name):
        # A text record has no file name: a title made from its id (a number, a key) would be
        # noise in every chunk's embedding and BM25 text.
        parsed = replace(parsed, title="")
    chunker = _CHUNKERS.get(spec)
    if chunker is None:
        chunker = _CHUNKERS[spec] = spec.build()
    chunks = chunker.chunk(job.doc_id, parsed)
    return Parsed(parsed.text, parsed.title, parsed.format, chunks)


def _ignore_interrupt() -> None:
    """In a parse worker: Ctrl-C reaches the whole process group, and a worker dying of it
    is started again by the pool while the parent is stopping it; the parent alone stops
    them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ParsePool:
    """Worker processes that parse :class:`Job` s, each under ``timeout_s`` and
    ``memory_mb``; results come back in the order the jobs were given."""

    def __init__(
        self,
        spec: ChunkerSpec,
        *,
        workers: int | None = None,
        timeout_s: float = 60.0,
        memory_mb: int = 1024,
    ) -> None:
        self.spec = spec
        self.workers = workers or os.cpu_count() or 1
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._pool: pebble.ProcessPool | None = None

    def _started(self) -> pebble.ProcessPool:
        if self._pool is None:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # one thread per worker
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["verirag.ingest.workers"])
            self._pool = pebble.ProcessPool(
                max_workers=self.workers, context=context, initializer=_ignore_interrupt
            )
        return self._pool

    def submit(self, job: Job) -> Any:
        """Start ``job``; :meth:`result` waits for it."""
        args = (job, self.spec, self.memory_mb * 2**20)
        return self._started().schedule(parse_and_chunk, args, timeout=self.timeout_s)

    def result(self, future: Any) -> Parsed | Failed:
        """What :meth:`submit`'s job gave: the parse, or why it failed."""
        try:
            parsed: Parsed = future.result()
            return parsed
        except documents.ParseError as exc:
            return Failed(str(exc))
        except concurrent.futures.TimeoutError:
            return Failed(f"took longer than {self.timeout_s:g} s to parse (the time cap)")
        except MemoryError:
            return Failed(f"needed more than {self.memory_mb} MB to parse (the memory cap)")
        except pebble.ProcessExpired as exc:
            return Failed(
                f"the parser process died (exit code {exc.exitcode}): over the "
                f"{self.memory_mb} MB memory cap, or a crash"
            )
        except Exception as exc:  # a parser bug on odd input must not stop a batch
            return Failed(f"parser failed: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]
            self._pool.join()
            self._pool = None
