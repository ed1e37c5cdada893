#!/usr/bin/env bash
# The main job on the embedded default: set up .venv, ingest the sample corpus, change a
# policy, and show the versions. Safe to re-run; it rebuilds ./demo-kb each time.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[server]"

rm -rf demo-kb
verirag() { .venv/bin/verirag --kb demo-kb "$@"; }
# Each command is echoed with its quoting, so it can be pasted as it stands (bold only on a
# terminal).
quoted() {
    local a words=()
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=@+,-]+$ ]]; then words+=("$a"); else words+=("'${a//\'/\'\\\'\'}'"); fi
    done
    printf '%s' "${words[*]}"
}
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s$ .venv/bin/verirag --kb demo-kb %s%s\n' "$bold" "$(quoted "$@")" "$plain"; verirag "$@"; }

step ingest sample/v1
step docs
step show refund-policy.md --chunks
step search "how many days do I have to return an item?" -k 3
step ask "how many days do I have to return an item?"
BEFORE=$(date -u +%Y-%m-%dT%H:%M:%S.%6N)
echo; echo "# The refund policy changes (30 -> 14 days), the FAQ page is retired:"
step ingest --sync sample/v2
step history refund-policy.md
step diff refund-policy.md 1 2
echo; echo "# The same question is answered from the new version at once, the old one stays reachable:"
step search "how many days do I have to return an item?" -k 3 --explain
step ask "how many days do I have to return an item?"
step ask "how many days do I have to return an item?" --as-of "$BEFORE"
echo; echo "# What the documents do not cover, they do not make up:"
step ask "what is the warranty on electric bikes?"
step audit list --limit 4
echo; echo "# Re-ingesting the same folder is a no-op:"
step ingest --sync sample/v2
step check
echo; echo "# Measure it: do answers follow changed documents? (facts changed, a section removed, a document deleted)"
step eval drift sample/drift.json
echo; echo "# Serve it: verirag --kb demo-kb serve   (REST, web UI at http://127.0.0.1:8000/, /v1 chat, /mcp/)"
