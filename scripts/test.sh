#!/usr/bin/env bash
# The whole test suite, on a fresh clone: installs what it needs, then runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -k merkle).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh" dev
cd "$ROOT"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
