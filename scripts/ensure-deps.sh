#!/usr/bin/env bash
# Installs what the farm needs on a fresh Debian machine: npm packages, and (as root)
# the Debian packages redis-server, nats-server, ffmpeg, espeak-ng, mma, fluidsynth, fluid-soundfont-gm and chromium. Without root, prints the
# exact command to run instead. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
{ command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; } || need+=(nats-server)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# Speech tests synthesise real speech for Silero VAD (test/fixtures/whisper/audio.ts).
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
# Audio metrical-level regression tests render real-instrument grooves (MMA → fluidsynth → GM soundfont).
command -v mma >/dev/null 2>&1 || need+=(mma)
command -v fluidsynth >/dev/null 2>&1 || need+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
# The dashboard's browser tests and bench drive Debian's chromium through puppeteer-core (nothing downloaded).
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing Debian packages. Run:  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
