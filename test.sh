#!/usr/bin/env bash
# Set up .venv with the dev, train, llm, server, report and cluster extras and run every check: ruff, mypy (strict on
# src/), a bounded fuzz run of the parsers, pytest. torch is pinned and installed first: an unpinned one pulls gigabytes
# of CUDA. Debian's chromium (the browser test), groff-base (man pages) and postgresql (the catalog tests start a
# server of their own on 127.0.0.1 and stop it) are installed where missing (as root, apt-get).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v groff >/dev/null 2>&1 || missing="$missing groff-base"  # renders man pages
# The catalog tests start their own PostgreSQL server on 127.0.0.1 (tests/postgres.py).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing="$missing postgresql"
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
# Installed, PostgreSQL must start: its tests fail rather than skip (tests/conftest.py).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && export VERIRAG_REQUIRE_POSTGRES=1
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev,train,llm,server,report,cluster]"
.venv/bin/ruff check src tests scripts benchmarks fuzz
.venv/bin/ruff format --check src tests scripts benchmarks fuzz
.venv/bin/mypy
# No crash and no hang in a minute of coverage-guided inputs (atheris exits non-zero on either).
fuzz_log=$(mktemp)
.venv/bin/python fuzz/fuzz_parsers.py -max_total_time="${FUZZ_SECONDS:-60}" -timeout=60 -rss_limit_mb=2048 \
    fuzz/corpus >"$fuzz_log" 2>&1 || { tail -40 "$fuzz_log"; exit 1; }
echo "fuzz: $(grep -aE '^Done' "$fuzz_log")"  # -a: the log can hold input bytes
rm -f "$fuzz_log"
.venv/bin/python -m pytest "$@"
