"""The import graph follows the data flow: a stage imports only the stages below it, so there
is no cycle, and no module imports another package's private (``_``) module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "verirag"

# Lowest first; a module may import its own stage and the ones before it.
LAYERS = [
    {"errors", "_http"},
    {"access", "config", "owner"},
    {"text"},
    {"documents"},
    {"chunking"},
    {"store"},
    {"ingest"},
    {"embedding"},
    {"index"},
    {"retrieval"},
    {"generation"},
    {"trace"},
    {"kb"},
    {"worker"},
    {"evaluation"},
    {"tuning"},
    {"client"},
    {"server"},
    {"cli"},
]
RANK = {stage: rank for rank, layer in enumerate(LAYERS) for stage in layer}


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``verirag...`` module ``path`` imports, at any depth (deferred ones included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(n, node.lineno) for n in names if n.startswith("verirag.")]
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("verirag.")]
    return found


def _stage(module: str) -> str:
    return module.split(".")[1].removesuffix(".py")


MODULES = sorted(
    p for p in SRC.rglob("*.py") if p.parent != SRC or p.stem not in {"__init__", "__main__"}
)


def test_every_stage_has_a_layer() -> None:
    stages = {p.relative_to(SRC).parts[0].removesuffix(".py") for p in MODULES}
    assert stages == set(RANK), stages ^ set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down_and_stay_public(path: Path) -> None:
    relative = path.relative_to(SRC)
    own = relative.parts[0].removesuffix(".py")
    package = (
        "verirag." + ".".join(relative.with_suffix("").parts[:-1])
        if len(relative.parts) > 1
        else "verirag"
    )
    for module, line in _imports(path):
        stage = _stage(module)
        if stage not in RANK:
            continue  # a name imported from a stage's package (``from verirag.x import y``)
        assert RANK[stage] <= RANK[own], f"{relative}:{line} imports {module}, a higher stage"
        parts = module.split(".")
        private = [i for i, part in enumerate(parts) if part.startswith("_") and i > 0]
        for i in private:
            owner = ".".join(parts[:i])
            assert package == owner or package.startswith(owner + "."), (
                f"{relative}:{line} imports {module}, private to {owner}"
            )
