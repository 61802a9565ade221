/**
 * Regression case of the bar-template phase test (issue 12, session 11) on the real
 * recording it was found on: Freedoom's D_COUNTD, an oom-pah at 90 BPM whose snare plays
 * every "and" over a kick on the beats. The beat tracker followed the "pah" (beat F 0.000)
 * until plugins/audio/dsp/bar-template.ts moved the grid by half a beat when the kick's
 * fundamental and the backbeat's alternation both sit on the off-beats (0.991 after).
 * The MIDI file is the package's own lump (test/fixtures/audio/README.md: source and
 * licence), rendered as the evaluation set renders it (fluidsynth with FluidR3_GM to MP3,
 * the first 75 s) and scored against the beat grid read from the same file.
 */
import { afterAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseMidi } from "../../scripts/audio-eval/midi.ts";
import { gameTruth, renderExcerpt } from "../../scripts/audio-eval/game-set.ts";
import { ensureTools } from "../../scripts/audio-eval/real-set.ts";
import { analyzeAudioFile } from "../../plugins/audio/library.ts";
import { beatF, tempoAcc1 } from "../../plugins/audio/eval/metrics.ts";

const SECONDS = 75;
const fixture = path.resolve("test/fixtures/audio/freedoom2-d_countd.mid");
const missing = ensureTools(false).filter((p) => p === "fluidsynth" || p === "fluid-soundfont-gm");
const skip = missing.length > 0 ? `needs Debian packages ${missing.join(" ")} (scripts/ensure-deps.sh installs them)` : false;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audio-oompah-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test.skipIf(skip)("oom-pah on its 'pah': Freedoom's D_COUNTD is tracked on the kick's beats, not half a beat off", async () => {
  const midi = parseMidi(fs.readFileSync(fixture));
  // The same rule and truth as the dev-games set.
  const g = gameTruth(midi, SECONDS);
  assert.ok(!("reason" in g), "reason" in g ? g.reason : "");
  const { truth } = g;
  assert.equal(truth.bpm, 90);
  const mp3 = path.join(dir, "countd.mp3");
  renderExcerpt(fixture, mp3, SECONDS);
  const r = await analyzeAudioFile(mp3, { analysisType: "beats" });
  assert.ok(tempoAcc1(truth.bpm, r.bpm), `bpm ${r.bpm} vs ${truth.bpm}`);
  const f = beatF(truth.beats, r.beats ?? []);
  assert.ok(f >= 0.9, `beat F ${f.toFixed(3)} (half a beat off gives 0)`);
});
