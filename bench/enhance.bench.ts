/**
 * Prompt enhancement benchmark: the full seven-stage rules engine in process (no plugin,
 * no mesh), across every style and a spread of prompts and platforms. Target: p50 <= 2 ms.
 * Also times the quick level and the knowledge-base load (first call). Prints markdown.
 * Run: node --import tsx bench/enhance.bench.ts [--iterations N]
 */
import { performance } from "node:perf_hooks";
import { enhancePrompt, listPlatforms, listStyles } from "../plugins/enhance/index.ts";

const itIdx = process.argv.indexOf("--iterations");
const iterations = itIdx > 0 ? Number(process.argv[itIdx + 1]) : 5000;

const prompts = [
  "woman singing in a studio",
  "a cat sitting on a rooftop",
  "Two friends running along the beach at sunset",
  "a luxury watch on a marble table",
  "knight fighting a dragon above a burning castle",
  "an old fisherman mending nets in a harbour at dawn, gulls overhead, his granddaughter watching from the pier",
  "a lone astronaut walking across a red desert planet toward a crashed ship",
  "children building a snowman in front of a small wooden house",
];

const t0 = performance.now();
enhancePrompt({ prompt: "warm-up", style: "Cinematic" });
const firstCallMs = performance.now() - t0;

const styles = listStyles().map((s) => s.name);
const platforms = listPlatforms().map((p) => p.name);

function run(level: "quick" | "full"): { p50: number; p99: number; mean: number; chars: number } {
  const times: number[] = [];
  let chars = 0;
  for (let i = 0; i < iterations; i++) {
    const params = {
      prompt: prompts[i % prompts.length] as string,
      style: styles[i % styles.length] as string,
      platform: platforms[i % platforms.length] as string,
      enhancement_level: level,
    };
    const t = performance.now();
    const r = enhancePrompt(params);
    times.push(performance.now() - t);
    chars += r.enhanced_prompt.length;
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] as number;
  return { p50: q(0.5), p99: q(0.99), mean: times.reduce((a, b) => a + b, 0) / times.length, chars: chars / iterations };
}

// Let the JIT settle before measuring.
run("full");
const full = run("full");
const quick = run("quick");
const fmt = (ms: number) => ms.toFixed(3);

console.log(`## Prompt enhancement (rules engine, in process)\n`);
console.log(
  `Node ${process.version}, ${iterations} calls per row, ${styles.length} styles x ${platforms.length} platforms x ${prompts.length} prompts rotated.\n`,
);
console.log("| level | p50 ms | p99 ms | mean ms | avg prompt chars | target |");
console.log("|---|---|---|---|---|---|");
console.log(
  `| full (7 stages) | ${fmt(full.p50)} | ${fmt(full.p99)} | ${fmt(full.mean)} | ${full.chars.toFixed(0)} | p50 <= 2 ms: ${full.p50 <= 2 ? "PASS" : "MISS"} |`,
);
console.log(`| quick (3 stages) | ${fmt(quick.p50)} | ${fmt(quick.p99)} | ${fmt(quick.mean)} | ${quick.chars.toFixed(0)} | |`);
console.log(`\nFirst call (reads and validates data/*.yaml): ${fmt(firstCallMs)} ms`);
