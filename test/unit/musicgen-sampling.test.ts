/** The token loop's pure parts: window plan, delay pattern, seeded sampling, crossfade. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { forcedToken, planWindows, windowSteps } from "../../plugins/musicgen/delay-pattern.ts";
import { CodeSampler, kthLargest, seededRng } from "../../plugins/musicgen/sampler.ts";
import { linearCrossfade } from "../../plugins/musicgen/decode.ts";
import { parseMusicParams } from "../../plugins/musicgen/params.ts";
import { FarmError } from "../../core/errors.ts";

test("planWindows: the first window is full, later ones carry `context` frames and fill the rest", () => {
  assert.deepEqual(planWindows(1000, 1496, 500), [{ start: 0, context: 0, frames: 1000 }]);
  assert.deepEqual(planWindows(3000, 1496, 500), [
    { start: 0, context: 0, frames: 1496 },
    { start: 1496, context: 500, frames: 996 },
    { start: 2492, context: 500, frames: 508 },
  ]);
  assert.equal(windowSteps({ start: 0, context: 0, frames: 1496 }, 4), 1499);
  assert.throws(() => planWindows(10, 5, 5), RangeError);
});

test("forcedToken: pad before a codebook's delay and after the last frame, context codes forced, the rest sampled", () => {
  const pad = 2048;
  const codes = [Int32Array.from([10, 11, 12, 13]), Int32Array.from([20, 21, 22, 23])];
  const w = { start: 2, context: 2, frames: 2 }; // context = frames 0,1; new = 2,3
  // Codebook 0: position j holds frame j-1.
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((j) => forcedToken(j, 0, w, codes, pad)),
    [10, 11, -1, -1, pad],
  );
  // Codebook 1 is one step later: position 1 is pad, frame 0 at position 2.
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((j) => forcedToken(j, 1, w, codes, pad)),
    [pad, 20, 21, -1, -1, pad],
  );
});

test("kthLargest agrees with a sort", () => {
  const v = Float32Array.from({ length: 2048 }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
  const sorted = Array.from(v).sort((a, b) => b - a);
  const work = new Float32Array(2048);
  for (const k of [1, 2, 250, 1024, 2048]) assert.equal(kthLargest(v, k, work), sorted[k - 1]);
});

const params = (o: Partial<{ temperature: number; topK: number; topP: number; guidanceScale: number }> = {}) => ({
  temperature: 1,
  topK: 0,
  topP: 0,
  guidanceScale: 1,
  ...o,
});

test("CodeSampler: same seed same draws; top-k and top-p keep only the likely codes; guidance pushes away from the unconditional row", async () => {
  const V = 16;
  const logits = Float32Array.from({ length: V }, (_, i) => i / 4); // code 15 most likely
  const draw = async (seed: number, p = params(), n = 200) => {
    const s = new CodeSampler(await seededRng(seed), V, p);
    return Array.from({ length: n }, () => s.sample(logits, 0, null));
  };
  assert.deepEqual(await draw(42), await draw(42));
  assert.notDeepEqual(await draw(42), await draw(43));
  assert.ok(new Set(await draw(1)).size > 8, "no truncation: many codes drawn");
  assert.deepEqual(new Set(await draw(1, params({ topK: 3 }))), new Set([13, 14, 15]));
  // Probabilities of 15, 14, 13 ... are ~0.22, 0.17, 0.13: p = 0.3 keeps 15 and 14.
  assert.deepEqual(new Set(await draw(1, params({ topP: 0.3 }))), new Set([14, 15]));
  // Guidance: cond likes 3 and 5 equally, uncond likes 5 -> uncond + 3 (cond - uncond) makes 3
  // (logit 6) far likelier than 5 (logit 2); without guidance they are even.
  const two = new Float32Array(2 * V);
  two[3] = 2;
  two[5] = 2;
  two[V + 5] = 2;
  const count = (xs: number[], c: number) => xs.filter((x) => x === c).length;
  const g = new CodeSampler(await seededRng(9), V, params({ guidanceScale: 3 }));
  const guided = Array.from({ length: 400 }, () => g.sample(two, 0, V));
  assert.ok(count(guided, 3) > 340 && count(guided, 5) < 40, `guided: ${count(guided, 3)} x 3, ${count(guided, 5)} x 5`);
  const u = new CodeSampler(await seededRng(9), V, params());
  const plain = Array.from({ length: 400 }, () => u.sample(two, 0, null));
  assert.ok(Math.abs(count(plain, 3) - count(plain, 5)) < 60, `plain: ${count(plain, 3)} x 3, ${count(plain, 5)} x 5`);
  // Temperature 0.05: logit gaps of 0.25 become 5, so code 15 has p ~ 0.993.
  const cold = await draw(5, params({ temperature: 0.05 }));
  assert.ok(cold.filter((c) => c === 15).length >= 190);
});

test("linearCrossfade keeps a correlated overlap at its level", () => {
  const out = new Float32Array(10).fill(1);
  const b = new Float32Array(6).fill(1);
  linearCrossfade(out, 10, b, 4);
  assert.deepEqual(Array.from(out), new Array(10).fill(1));
  const zero = new Float32Array(4);
  const o2 = new Float32Array(4).fill(1);
  linearCrossfade(o2, 4, zero, 4);
  assert.deepEqual(Array.from(o2), [0.875, 0.625, 0.375, 0.125]);
});

test("params: defaults from the generation config, seed drawn when absent, errors name the field", () => {
  const p = parseMusicParams({ prompt: "x" }, { guidanceScale: 3, topK: 250 });
  assert.equal(p.duration, 30);
  assert.equal(p.topK, 250);
  assert.equal(p.guidanceScale, 3);
  assert.equal(p.seedGiven, false);
  assert.ok(Number.isInteger(p.seed));
  assert.equal(parseMusicParams({ prompt: "x", seed: 5 }, { guidanceScale: 3, topK: 250 }).seed, 5);
  for (const [field, v] of [
    ["top_k", 1.5],
    ["top_p", 2],
    ["guidance_scale", -1],
    ["seed", 2 ** 32],
    ["duration", "10"],
  ] as const) {
    assert.throws(
      () => parseMusicParams({ prompt: "x", [field]: v }, { guidanceScale: 3, topK: 250 }),
      (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === field,
    );
  }
});
