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
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[node]"
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

# Chromium for the consumer page's browser tests: Debian's package, driven by Playwright
# through its executable path (Playwright's own browser download is never used). Only
# when it is missing, and only as root (or with password-less sudo in CI); anything
# else just leaves the browser tests to skip, with their reason printed.
if [ "$WITH_DEV" = "dev" ] && ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && [ "${CI:-}" = "true" ] && command -v sudo >/dev/null 2>&1 \
     && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  fi
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "bootstrap: chromium not found (not root): browser tests will skip" >&2
  elif ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: chromium not found and no apt-get: browser tests will skip" >&2
  else
    echo "bootstrap: installing chromium (Debian) for the browser tests" >&2
    if ! { $SUDO apt-get update -qq \
           && $SUDO env DEBIAN_FRONTEND=noninteractive \
              apt-get install -y -qq --no-install-recommends chromium; } >&2; then
      echo "bootstrap: could not install chromium: browser tests will skip" >&2
    fi
  fi
fi

# PostgreSQL server binaries for the store's PostgreSQL suite and the multi-process tests
# (tests/support/postgres.py starts a private throwaway cluster with them; nothing is
# configured or started here). Debian's package, only when no server is installed, only
# as root or with password-less sudo in CI; otherwise those tests skip, saying why.
# VNTRACE_TEST_POSTGRES_URL (an existing server) makes the binaries unnecessary.
if [ "$WITH_DEV" = "dev" ] && [ -z "${VNTRACE_TEST_POSTGRES_URL:-}" ] \
   && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
   && ! command -v initdb >/dev/null 2>&1; then
  PG_SUDO=""
  if [ "$(id -u)" -ne 0 ] && [ "${CI:-}" = "true" ] && command -v sudo >/dev/null 2>&1 \
     && sudo -n true 2>/dev/null; then
    PG_SUDO="sudo -n"
  fi
  if [ "$(id -u)" -ne 0 ] && [ -z "$PG_SUDO" ]; then
    echo "bootstrap: PostgreSQL server not found (not root): PostgreSQL tests will skip" >&2
  elif ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: PostgreSQL server not found and no apt-get: PostgreSQL tests will skip" >&2
  else
    echo "bootstrap: installing PostgreSQL (Debian) for the PostgreSQL tests" >&2
    pg_install() {
      $PG_SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends postgresql >&2
    }
    # Try with the current package lists first (fast); refresh them only if needed.
    if ! pg_install 2>/dev/null && ! { $PG_SUDO apt-get update -qq >&2 && pg_install; }; then
      echo "bootstrap: could not install PostgreSQL: PostgreSQL tests will skip" >&2
    fi
  fi
fi
