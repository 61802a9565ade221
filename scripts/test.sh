#!/usr/bin/env bash
# The full suite: install what is missing, type-check, lint, then unit, integration and e2e
# tests on vitest with v8 coverage (floors enforced). Extra arguments go to vitest
# (e.g. `npm test -- test/unit` or `-t 'drain'`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export ONNXRUNTIME_NODE_INSTALL=skip
echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
echo "== lint (eslint: rules that find bugs; import cycles)"
npm run -s lint
echo "== tests (vitest, with coverage; files and floors in vitest.config.ts)"
report="$(mktemp -d)/vitest.json"
rm -rf coverage
set +e
npx vitest run --coverage --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
set -e
# Coverage per folder and the plain `N passed, N failed` line CI reads.
node --import tsx scripts/test-summary.ts "$report" coverage/coverage-summary.json
exit "$status"
