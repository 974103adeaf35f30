#!/usr/bin/env bash
# Installs everything vntrace needs on a fresh clone, idempotently:
#   - a virtual environment in .venv with the project (editable) and its dev extras;
#   - the npm build/test tools (solc, OpenZeppelin, the reference Merkle tree, anvil)
#     when Node.js is present (running the node itself never needs Node.js).
# Sourced by scripts/test.sh and scripts/serve.sh; safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
WITH_DEV="${1:-dev}"

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.vntrace-installed-$WITH_DEV"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing vntrace into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  if [ "$WITH_DEV" = "dev" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
  else
    .venv/bin/python -m pip install -q --disable-pip-version-check -e .
  fi
  touch "$stamp"
fi

if [ "$WITH_DEV" = "dev" ]; then
  if command -v npm >/dev/null 2>&1; then
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      echo "bootstrap: installing npm tools (solc, OpenZeppelin, merkle-tree, anvil)" >&2
      npm ci --no-audit --no-fund --loglevel=error
    fi
  else
    echo "bootstrap: npm not found: tests that need solc, the JS Merkle tree or anvil will skip" >&2
  fi
fi
