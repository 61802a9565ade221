#!/usr/bin/env bash
# The full suite: install what is missing, type-check, then unit, integration and e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export ONNXRUNTIME_NODE_INSTALL=skip
echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
echo "== lint (eslint: rules that find bugs; import cycles)"
npm run -s lint
echo "== tests"
shopt -s nullglob globstar
files=(test/unit/**/*.test.ts test/integration/**/*.test.ts test/e2e/**/*.test.ts)
exec node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
