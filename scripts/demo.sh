#!/usr/bin/env bash
# Install shingi into ./.venv and start it on SQLite (./var/shingi.db) with the seed councils' demo cases.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
# Plain HTTP on localhost: session cookies without the Secure flag (set SHINGI_COOKIE_SECURE=true behind HTTPS).
export SHINGI_COOKIE_SECURE="${SHINGI_COOKIE_SECURE:-false}"
exec .venv/bin/shingi serve --demo "$@"
