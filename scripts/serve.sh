#!/usr/bin/env bash
# Runs the node's main job on the embedded default, installing what it needs first.
# Extra arguments go to `vntrace` (default: `serve`, the node on the embedded chain).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh" dev
cd "$ROOT"
if [ "$#" -eq 0 ]; then set -- serve; fi
exec .venv/bin/vntrace "$@"
