/**
 * The quality-gate scoring of scripts/face-eval/quality.ts: which faces a gate keeps, and TMR
 * with refused pairs counted as misses and left out; and the split of a fused vector back into
 * its two unit parts (embed-meta.ts), which the caches rely on.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { gateScores, passes } from "../../scripts/face-eval/quality.ts";
import { splitFused } from "../../scripts/face-eval/embed-meta.ts";
import { fuseEmbeddings } from "../../plugins/face/fusion/backend.ts";

const q = (bright: number) => ({ conf: 1, size: 200, sharp: 300, bright });

test("passes: every cut must hold; no face never passes", () => {
  const gate = { conf: 0.5, size: 32, sharp: 10, bright: 30 };
  assert.equal(passes(q(120), gate), true);
  assert.equal(passes(q(29), gate), false);
  assert.equal(passes({ ...q(120), size: 20 }, gate), false);
  assert.equal(passes(null, gate), false);
});

test("gateScores: a refused dark face removes the impostor that set FMR 0; its genuine pair is a miss or left out", () => {
  // Images 0-1 one person (real photos), 2 the same person dark, 3-4 strangers, 3 dark.
  const ok = [true, true, false, false, true];
  const genuine = [
    { a: 0, b: 1, s: 0.7 },
    { a: 0, b: 2, s: 0.5 },
  ];
  const impostor = [
    { a: 2, b: 3, s: 0.8 }, // two dark faces of different people: refused by the gate
    { a: 0, b: 4, s: 0.2 },
    { a: 1, b: 4, s: 0.1 },
  ];
  const all = gateScores(genuine, impostor, [true, true, true, true, true]);
  assert.equal(all.miss0, 0, "ungated, the dark impostor pair (0.8) is above every genuine pair");
  const gated = gateScores(genuine, impostor, ok);
  assert.equal(gated.refusedPairs, 0.5);
  assert.equal(gated.miss0, 0.5, "one of two genuine pairs matches; the refused one counts as a miss");
  assert.equal(gated.excl0, 1, "left out, the one kept genuine pair matches");
  assert.ok(Math.abs(gated.threshold0 - 0.2) < 1e-5);
});

test("splitFused recovers both unit parts of a fused vector exactly", () => {
  const fr = Float32Array.from([0.6, 0.8]);
  const faceres = Float32Array.from([0, 0.28, 0.96]);
  const parts = splitFused(Array.from(fuseEmbeddings(fr, faceres)), 2);
  parts.fr.forEach((x, i) => assert.ok(Math.abs(x - fr[i]!) < 1e-6));
  parts.faceres.forEach((x, i) => assert.ok(Math.abs(x - faceres[i]!) < 1e-6));
});
