/**
 * The dev-grooves part of the real-instrument set (issue 12, session 12): the rule that
 * picks the MMA stdlib grooves no dev song plays and no held-out file uses, and the tempi
 * they are rendered at (scripts/audio-eval/real-specs.ts mmaGrooveSpecs).
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import { heldOutGrooves, mmaGrooveSpecs, mmaSpecs } from "../../scripts/audio-eval/real-specs.ts";

const skip = fs.existsSync("/usr/share/mma/lib/stdlib") ? false : "needs the Debian package mma (scripts/ensure-deps.sh installs it)";

test.skipIf(skip)("grooves shared with the dev songs or the held-out MMA examples are left out; the rest render twice", () => {
  const specs = mmaGrooveSpecs();
  assert.ok(specs.length >= 100, `${specs.length} renders`);
  const grooves = new Set(specs.map((s) => s.groove.toLowerCase()));
  for (const s of mmaSpecs()) assert.ok(!grooves.has(s.groove.toLowerCase()), `dev groove ${s.groove} reused`);
  // The held-out MMA example songs play these (their "Groove" lines); bill-bailey's Dixie and
  // fella2's Rhumba anchor the reader to the files as packaged.
  const heldOut = heldOutGrooves();
  assert.ok(heldOut.has("dixie") && heldOut.has("rhumba"), [...heldOut].join(" "));
  for (const g of heldOut) assert.ok(!grooves.has(g), `held-out groove ${g} in dev-grooves`);
  // No compound-time file (its beat unit is not in the file) and no metronome.
  assert.ok(specs.every((s) => !/68|128|54|metronome/.test(s.id.replace(/-t\d+$/, ""))));
  const byFile = new Map<string, number[]>();
  for (const s of specs) {
    assert.ok(s.grooveSet && s.mmaTempo >= 60 && s.mmaTempo <= 190, `${s.id} at ${s.mmaTempo}`);
    assert.ok(s.meter === "4/4" || s.meter === "3/4");
    const file = s.id.replace(/-t\d+$/, "");
    byFile.set(file, [...(byFile.get(file) ?? []), s.mmaTempo]);
  }
  for (const [file, tempi] of byFile) {
    assert.equal(tempi.length, 2, file);
    assert.ok(Math.max(tempi[0]! / tempi[1]!, tempi[1]! / tempi[0]!) >= 1.1, `${file}: ${tempi.join(", ")}`);
  }
});

test.skipIf(skip)("the same specs on every call (a fixed seed): the set is reproducible", () => {
  assert.deepEqual(mmaGrooveSpecs(), mmaGrooveSpecs());
  // Tempi spread like popular music's: most within half an octave of 115 BPM.
  const t = mmaGrooveSpecs().map((s) => Math.abs(Math.log2(s.mmaTempo / 115)));
  assert.ok(t.filter((x) => x <= 0.5).length / t.length > 0.8);
});
