#!/usr/bin/env bash
# Set up .venv with the dev, train, llm, server and report extras and run every check: ruff, mypy (strict on src/),
# pytest. torch is pinned and installed first: an unpinned one pulls gigabytes of CUDA.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev,train,llm,server,report]"
.venv/bin/ruff check src tests scripts benchmarks
.venv/bin/ruff format --check src tests scripts benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
