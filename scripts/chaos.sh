#!/usr/bin/env bash
# npm run chaos: the full chaos suite (bench/chaos.bench.ts), its figures written into
# BENCHMARKS.md's "chaos" section like any bench. Loopback only; needs redis-server and nats-server.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/bench.sh chaos
