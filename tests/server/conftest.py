"""A real ``verirag serve`` process on 127.0.0.1 over a knowledge base holding the sample
corpus (public) and one document only the ``hr`` group may read."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SAMPLE
from verirag import KnowledgeBase
from verirag.generation.llamacpp import free_port

SECRET = "Quillfeather"  # a word only the restricted document contains
SALARIES = f"""# Salary bands

## Engineering

Salary band L5 pays 120,000 to 150,000 a year. The {SECRET} bonus adds 10 percent for
staff who mentor new hires.
"""


@dataclass
class Server:
    url: str
    path: Path
    admin: str
    hr: str
    outsider: str
    log: Path

    def client(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def finished(response: httpx.Response) -> dict[str, Any]:
    """The report of a job that was accepted (202) and ended well within its ``wait``."""
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "done", job
    report: dict[str, Any] = job["report"]
    return report


def start(path: Path, *args: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = path.parent / f"serve-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "verirag", "--kb", str(path), "serve", "--port", str(port), *args],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return process, url, log
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("server")
    private = root / "private"
    private.mkdir()
    (private / "salaries.md").write_text(SALARIES, encoding="utf-8")
    path = root / "kb"
    with KnowledgeBase(path) as kb:
        kb.ingest(SAMPLE / "v1")
        kb.ingest(private, access=["hr"])
        keys = kb.keys
        admin = keys.create("root", admin=True)
        hr = keys.create("hana", ["hr"])
        outsider = keys.create("otto")
    process, url, log = start(path)
    try:
        yield Server(url, path, admin, hr, outsider, log)
    finally:
        stop(process)


# -- a knowledge base whose access changes over time: what the security tests probe ------

# Tokens only restricted text holds: none may reach a principal outside ``hr``.
RESTRICTED = ("XFLIPTWOHR", "LOCKONEPUB", "LOCKTWOHR", "BACKONEHR", SECRET, "TAGPAYROLLHR")


@dataclass
class Vault(Server):
    impostor: str  # a public key named like the hr key
    local_named: str  # a public key named "local"
    before_lock: float  # a time when lock.md was still public (v1)


def _put(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def build_vault(root: Path) -> tuple[Path, dict[str, str], float]:
    """flip.md: hr in v1, public in v2 (the old version stays hr). lock.md: public in v1, hr
    in v2 (restricting is retroactive). back.md: hr, removed, back as public. salaries.md:
    hr, tagged with a tag no other document has. The sample corpus: public."""
    path = root / "kb"
    docs = root / "docs"
    with KnowledgeBase(path) as kb:
        kb.ingest(SAMPLE / "v1" / "refund-policy.md")
        flip = "# Flip\n\nThe vault code for the night shift is {}.\n\nDesks open at nine.\n"
        kb.ingest(_put(docs, "flip.md", flip.format("XFLIPTWOHR")), access=["hr"])
        kb.ingest(_put(docs, "flip.md", flip.format("retired")), access=["public"])
        lock = "# Lock\n\nThe lockbox phrase for visitors is {}.\n"
        kb.ingest(_put(docs, "lock.md", lock.format("LOCKONEPUB")))
        time.sleep(0.05)
        before_lock = time.time()
        time.sleep(0.05)
        kb.ingest(_put(docs, "lock.md", lock.format("LOCKTWOHR")), access=["hr"])
        back = "# Backups\n\nThe backup window is {}.\n"
        kb.ingest(_put(docs, "back.md", back.format("BACKONEHR at midnight")), access=["hr"])
        kb.remove("back.md")
        kb.ingest(_put(docs, "back.md", back.format("on Sunday")), access=["public"])
        salaries = _put(docs / "private", "salaries.md", SALARIES)
        kb.ingest(salaries, access=["hr"], metadata={"tags": ["TAGPAYROLLHR"]})
        # Asked by the owner at the command line (principal "local").
        kb.ask("What is the lockbox phrase for visitors?", principal="local")
        keys = kb.keys
        tokens = {
            "admin": keys.create("root", admin=True),
            "hr": keys.create("hana", ["hr"]),
            "outsider": keys.create("otto"),
            "impostor": keys.create("hana"),
            "local_named": keys.create("local"),
        }
    return path, tokens, before_lock


@pytest.fixture(scope="package")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vault]:
    root = tmp_path_factory.mktemp("vault")
    path, tokens, before_lock = build_vault(root)
    process, url, log = start(path)
    try:
        yield Vault(
            url,
            path,
            tokens["admin"],
            tokens["hr"],
            tokens["outsider"],
            log,
            tokens["impostor"],
            tokens["local_named"],
            before_lock,
        )
    finally:
        stop(process)
