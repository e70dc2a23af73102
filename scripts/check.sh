#!/usr/bin/env bash
# The code's own checks: lint and import order (ruff), the one direction of dependencies
# (import-linter), and types (mypy). Installs the tools into ./.venv first.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/mypy states workflow notifications api shingi
