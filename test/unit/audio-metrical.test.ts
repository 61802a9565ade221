/**
 * Regression cases for the metrical-level failures seen on real recordings (issue 12):
 * each test writes a short song for MMA in the test, renders it with real-instrument
 * samples (fluidsynth + the FluidR3 General MIDI soundfont, installed by
 * scripts/ensure-deps.sh), and checks the analysis against the beat grid read back from
 * the MIDI. Failure modes kept: tempo doubled (funk 100, was 199), halved (bossa nova
 * 128, was 64), 4:3 (8-beat rock 104 heard as ~139), 6/8 reported as such, 2/3 (a Sousa
 * march at 126 tracked at 84.7), the reggae one-drop's beat phase (beats locked to the
 * off-beat skank, beat F 0) and its downbeat phase (the bar was placed on the drop, beat
 * three: downbeat F 0), a 4/4 shuffle at 120 reported as 12/8, a 12/8 blues that
 * must stay 12/8, a 6/8 swing reported as 12/8, the fast waltz at 180 heard at the bar
 * level (60, reported 12/8) and MMA's RockBallad, whose note grid makes it 12/8. Not
 * fixed, so not kept here: the beat F of marches (tempo right, beats wander); see
 * plugins/audio/README.md.
 */
import { afterAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { parseMidi } from "../../scripts/audio-eval/midi.ts";
import { midiTruth, type MidiTruth } from "../../scripts/audio-eval/midi-truth.ts";
import { songText } from "../../scripts/audio-eval/mma-song.ts";
import { beatGrid, notatedMeter } from "../../scripts/audio-eval/meter-grid.ts";
import { mmaSpecs, type MmaSongSpec } from "../../scripts/audio-eval/real-specs.ts";
import { ensureTools, renderMidi } from "../../scripts/audio-eval/real-set.ts";
import { analyzeAudioFile } from "../../plugins/audio/library.ts";
import { beatF, tempoAcc1 } from "../../plugins/audio/eval/metrics.ts";
import type { AudioAnalysis } from "../../plugins/audio/types.ts";

// The same excerpt length as the evaluation set: a bar-level decision needs some 20+ bars.
const SECONDS = 75;
const missing = ensureTools(false).filter((p) => p !== "openttd-openmsx");
const skip = missing.length > 0 ? `needs Debian packages ${missing.join(" ")} (scripts/ensure-deps.sh installs them)` : false;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audio-metrical-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function render(id: string): Promise<{ truth: MidiTruth; spec: MmaSongSpec; r: AudioAnalysis }> {
  const spec = mmaSpecs().find((s) => s.id === id);
  assert.ok(spec, id);
  fs.writeFileSync(path.join(dir, `${id}.mma`), songText(spec, SECONDS));
  const m = spawnSync("mma", ["-f", `${id}.mid`, `${id}.mma`], { cwd: dir, encoding: "utf8" });
  assert.equal(m.status, 0, m.stderr);
  const midi = parseMidi(fs.readFileSync(path.join(dir, `${id}.mid`)));
  const truth = midiTruth(midi, { quartersPerBeat: spec.quartersPerBeat, beatsPerBar: spec.beatsPerBar, originTicks: 0, maxSeconds: SECONDS });
  const mp3 = path.join(dir, `${id}.mp3`);
  renderMidi(path.join(dir, `${id}.mid`), mp3, SECONDS);
  return { truth, spec, r: await analyzeAudioFile(mp3, { analysisType: "beats" }) };
}

test.skipIf(skip)("double: a 100 BPM funk groove with busy sixteenths is 100, not 200", async () => {
  const { truth, r } = await render("funk-100");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.ok(beatF(truth.beats, r.beats ?? []) >= 0.9, `beat F ${beatF(truth.beats, r.beats ?? [])}`);
  // The other level is offered as the alternative.
  assert.ok(r.bpm_alternative && Math.abs(r.bpm_alternative / truth.bpm - 1) > 0.2, `alternative ${r.bpm_alternative}`);
});

test.skipIf(skip)("half: a 128 BPM bossa nova is 128, not 64", async () => {
  const { truth, r } = await render("bossa-128");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.ok(beatF(truth.beats, r.beats ?? []) >= 0.9);
});

test.skipIf(skip)("4:3: a 104 BPM 8-beat rock groove is not heard as ~139", async () => {
  const { truth, r } = await render("rock-8beat-104");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.equal(r.time_signature, "4/4");
});

test.skipIf(skip)("6/8: a 6/8 march is reported as 6/8 at the dotted-quarter beat", async () => {
  const { truth, r } = await render("march68-116");
  assert.equal(r.time_signature, "6/8");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.ok((r.meter_confidence ?? 0) > 0, `meter_confidence ${r.meter_confidence}`);
});

test.skipIf(skip)("2/3: a Sousa march at 126 is tracked at 126, not at 84 (dotted rhythms)", async () => {
  const { truth, r } = await render("march-sousa-126");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  // The tempo is the failure mode kept here. The beats themselves still wander on this
  // march (beat F 0.68, was 0.65 at the wrong tempo): its onsets repeat at two beats and
  // hardly at one (plugins/audio/README.md, known limits).
  assert.ok(beatF(truth.beats, r.beats ?? []) >= 0.6, `beat F ${beatF(truth.beats, r.beats ?? [])}`);
});

test.skipIf(skip)("one-drop phase: reggae beats sit on the beat, not on the off-beat skank", async () => {
  const { truth, r } = await render("reggae-onedrop-76");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  // Half a beat off would score 0: the skank on every "and" was where the grid locked.
  assert.ok(beatF(truth.beats, r.beats ?? []) >= 0.9, `beat F ${beatF(truth.beats, r.beats ?? [])}`);
  // The bar starts two beats before the drop (kick and rim together on three), not on it.
  assert.equal(r.time_signature, "4/4");
  assert.ok(beatF(truth.downbeats, r.downbeats ?? []) >= 0.9, `downbeat F ${beatF(truth.downbeats, r.downbeats ?? [])}`);
});

test.skipIf(skip)("12/8 false positive: a 4/4 shuffle at 120 (swung triplet feel) is 4/4, not 12/8", async () => {
  const { truth, r } = await render("shuffle-120");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.equal(r.time_signature, "4/4");
  assert.ok(beatF(truth.downbeats, r.downbeats ?? []) >= 0.9, `downbeat F ${beatF(truth.downbeats, r.downbeats ?? [])}`);
});

test.skipIf(skip)("12/8: a slow 12/8 blues at 62 keeps its compound label and its four dotted beats per bar", async () => {
  const { truth, r } = await render("blues128-62");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.equal(r.time_signature, "12/8");
  assert.ok(beatF(truth.downbeats, r.downbeats ?? []) >= 0.9, `downbeat F ${beatF(truth.downbeats, r.downbeats ?? [])}`);
});

test.skipIf(skip)("6/8 vs 12/8: a 6/8 swing at 70 (chords change every two dotted beats) is 6/8, not 12/8", async () => {
  const { truth, r } = await render("swing68-70");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.equal(r.time_signature, "6/8");
  assert.ok(beatF(truth.downbeats, r.downbeats ?? []) >= 0.9, `downbeat F ${beatF(truth.downbeats, r.downbeats ?? [])}`);
});

test.skipIf(skip)("bar level: a fast waltz at 180 is 3/4 at 180 with bars on the one, not 12/8 at 60", async () => {
  const { truth, r } = await render("waltz-fast-180");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.equal(r.time_signature, "3/4");
  assert.ok(beatF(truth.beats, r.beats ?? []) >= 0.9, `beat F ${beatF(truth.beats, r.beats ?? [])}`);
  assert.ok(beatF(truth.downbeats, r.downbeats ?? []) >= 0.9, `downbeat F ${beatF(truth.downbeats, r.downbeats ?? [])}`);
  // The bar level a listener may tap instead is offered as the alternative.
  assert.ok(r.bpm_alternative && Math.abs(r.bpm_alternative / (truth.bpm / 3) - 1) < 0.04, `alternative ${r.bpm_alternative}`);
});

test.skipIf(skip)("12/8 by its note grid: MMA's RockBallad (even triplets on every beat at 70) is 12/8, as its MIDI grid says", async () => {
  const { truth, spec, r } = await render("rockballad-70");
  const midi = parseMidi(fs.readFileSync(path.join(dir, "rockballad-70.mid")));
  // The label the evaluation set now uses: the spec's 4/4 is contradicted by the grid.
  assert.equal(notatedMeter(spec.meter, beatGrid(midi, midi.ppq * spec.quartersPerBeat), truth.bpm), "12/8");
  assert.equal(r.time_signature, "12/8");
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  assert.ok(beatF(truth.downbeats, r.downbeats ?? []) >= 0.9, `downbeat F ${beatF(truth.downbeats, r.downbeats ?? [])}`);
});
