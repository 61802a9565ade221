/**
 * Regression cases of the tempo sweep (issue 12, session 8): grooves played away from
 * their usual tempo, where the metrical-level model had halved fast ones and doubled slow
 * ones. Fixed by the kick/snare alternation cue (tempo-level.ts crossAt) and a refit that
 * includes the sweep. Each render is the evaluation set's own (buildDev: MMA → fluidsynth
 * with FluidR3_GM → MP3, truth from the MIDI), into a temporary folder.
 */
import { afterAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { mmaSweepSpecs, mmaVariantSpecs } from "../../scripts/audio-eval/real-specs.ts";
import { buildDev, ensureTools } from "../../scripts/audio-eval/real-set.ts";
import { analyzeAudioFile } from "../../plugins/audio/library.ts";
import { beatF, tempoAcc1 } from "../../plugins/audio/eval/metrics.ts";

const missing = ensureTools(false).filter((p) => p !== "openttd-openmsx");
const skip = missing.length > 0 ? `needs Debian packages ${missing.join(" ")} (scripts/ensure-deps.sh installs them)` : false;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audio-level-sweep-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function check(id: string): Promise<void> {
  const spec = [...mmaVariantSpecs(), ...mmaSweepSpecs()].find((s) => s.id === id);
  assert.ok(spec, id);
  const { truth, mp3Path } = buildDev(spec, dir);
  const r = await analyzeAudioFile(mp3Path, { analysisType: "beats" });
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `${id}: bpm ${r.bpm} vs ${truth.bpm}`);
  assert.ok(beatF(truth.beats, r.beats ?? []) >= 0.9, `${id}: beat F ${beatF(truth.beats, r.beats ?? [])}`);
}

test.skipIf(skip)("half: a rock'n'roll jive at 168 is 168, not 84", async () => {
  await check("jive-150-x1.12");
});

test.skipIf(skip)("half: a reggae one-drop at 182 is 182, not 91 (beats had locked between the true ones)", async () => {
  await check("reggae-onedrop-92-t182");
});

test.skipIf(skip)("double: a folk-rock groove at 74 is 74, not 148", async () => {
  await check("folkrock-112-t74");
});
