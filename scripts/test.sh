#!/usr/bin/env bash
# Install shingi with its test tools into ./.venv and run the whole test suite.
# The suite runs on SQLite by default; set SHINGI_TEST_DATABASE_URL=postgresql://… to run it on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest -n "${SHINGI_TEST_WORKERS:-2}" "$@"
