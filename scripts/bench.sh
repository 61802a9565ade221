#!/usr/bin/env bash
# npm run bench [-- name ...]: runs the benchmarks and rewrites BENCHMARKS.md with the
# machine, the date and each bench's method and results. Names: scheduler throughput
# failover http enhance video audio face ... dashboard logger (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
all=(scheduler throughput failover http enhance video audio face comfyui speech musicgen batch fuzz dashboard logger metrics chaos)
names=("$@"); [ ${#names[@]} -eq 0 ] && names=("${all[@]}")
declare -A file=(
  [scheduler]=bench/scheduler.bench.ts [throughput]=bench/throughput.bench.ts [failover]=bench/failover.bench.ts
  [http]=bench/http.bench.ts [enhance]=bench/enhance.bench.ts [video]=bench/video-assemble.bench.ts
  [audio]=bench/audio.bench.ts [face]=bench/face.bench.ts
  [comfyui]=bench/comfyui.bench.ts [speech]=bench/speech.bench.ts [musicgen]=bench/musicgen.bench.ts
  [batch]=bench/batch.bench.ts [fuzz]=bench/fuzz.bench.ts [chaos]=bench/chaos.bench.ts
  [dashboard]=bench/dashboard.bench.ts [logger]=bench/logger.bench.ts
  [metrics]=bench/metrics.bench.ts
)
mkdir -p .farm/bench
# Benches not run now keep the section BENCHMARKS.md already has, so
# `npm run bench -- <name>` refreshes one section without dropping the others.
if [ -f BENCHMARKS.md ]; then
  for n in "${all[@]}"; do
    # Benches run now write their own section below; every other section is taken from
    # BENCHMARKS.md as it stands (notes added there by hand included), not from an older run.
    [[ " ${names[*]} " == *" $n "* ]] && continue
    # A section runs to the next bench's own heading; sub-headings inside it ("## Prompt
    # enhancement ...") are part of it.
    awk -v h="## $n" -v names="${all[*]}" 'BEGIN{split(names, a, " "); for (i in a) known["## " a[i]]=1}
      $0==h{on=1; print; next} on&&($0 in known){exit} on' BENCHMARKS.md > ".farm/bench/$n.md.tmp"
    if [ -s ".farm/bench/$n.md.tmp" ]; then mv ".farm/bench/$n.md.tmp" ".farm/bench/$n.md"; else rm -f ".farm/bench/$n.md.tmp"; fi
  done
fi
for n in "${names[@]}"; do
  f=${file[$n]:-}
  [ -n "$f" ] || { echo "unknown bench '$n' (known: ${all[*]})" >&2; exit 2; }
  echo "== bench $n ($f)"
  {
    echo "## $n"
    echo
    echo "Run: $(date -u +%Y-%m-%dT%H:%MZ), \`node --import tsx $f\`. Method: see the header comment of \`$f\`."
    echo
    node --import tsx "$f"
  } | tee ".farm/bench/$n.md"
done
{
  echo "# Benchmarks"
  echo
  echo "Machine: $(nproc) CPU cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr), Node $(node -v); no GPU."
  echo "Each section below was produced by \`npm run bench\` (or \`npm run bench -- <name>\`) at the time it states; rerun to refresh."
  echo
  for n in "${all[@]}"; do [ -f ".farm/bench/$n.md" ] && { cat ".farm/bench/$n.md"; echo; }; done
} | cat -s > BENCHMARKS.md
echo "wrote BENCHMARKS.md"
