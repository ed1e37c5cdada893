"""Command line: ``verirag ingest | docs | history | show | diff | check | search | ask |
audit | reindex | eval | tune | report | advise | serve | mcp | keys``: one module per group
of commands, each registering on the root ``app``."""

import importlib

from verirag.cli.app import app, run

# --help lists commands in the order they register.
GROUPS = ("documents", "answers", "audit", "evaluation", "tuning", "serving")
for _group in GROUPS:
    importlib.import_module(f"verirag.cli.{_group}")

__all__ = ["GROUPS", "app", "run"]
