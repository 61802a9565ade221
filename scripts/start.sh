#!/usr/bin/env bash
# npm start: the embedded farm (api + coordinator + one agent, one process) on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node --import tsx cli/farm.ts "${@:-all}"
