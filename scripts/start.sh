#!/usr/bin/env bash
# npm start: the embedded farm (api + coordinator + one agent, one process) on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# The best face model for new characters (fusion-fr-faceres) needs faceplugin-fr's weights file,
# which comes from an npm package (MIT) and is placed once under the default models folder
# (data/models). Offline or with another paths.models, the farm still starts and new characters
# get human-faceres; README "Models" says how to place the file by hand.
if [ -z "${NB_SKIP_FACE_WEIGHTS:-}" ] && [ ! -f data/models/faceplugin/fr_feature.onnx ]; then
  node --import tsx plugins/face/faceplugin/fetch-weights.ts data/models >/dev/null \
    || echo "start: faceplugin-fr weights not fetched (npm registry unreachable?); new characters use human-faceres" >&2
fi
exec node --import tsx cli/farm.ts "${@:-all}"
