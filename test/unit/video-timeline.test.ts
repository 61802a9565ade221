import { test } from "vitest";
import assert from "node:assert/strict";
import { FarmError } from "../../core/errors.ts";
import { parseAssembleParams, type ClipParams } from "../../plugins/video/src/params-assemble.ts";
import { buildTimeline, type SourceInfo } from "../../plugins/video/src/timeline.ts";
import { chosenMarkers } from "../../plugins/video/src/beat-sync.ts";
import { TRANSITION_NAMES } from "../../plugins/video/src/data.ts";

const video = (duration: number): SourceInfo => ({ kind: "video", duration });
const clips = (list: Record<string, unknown>[]): ClipParams[] => parseAssembleParams({ clips: list }).clips;

/** Asserts fn throws VALIDATION_ERROR on `field` and returns the error. */
function rejects(fn: () => unknown, field: string): FarmError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FarmError, `expected FarmError, got ${String(err)}`);
    assert.equal(err.code, "VALIDATION_ERROR");
    assert.equal(err.details?.field, field);
    return err;
  }
  assert.fail(`expected VALIDATION_ERROR on ${field}`);
}

test("overlapping transitions shorten the total by their duration; cuts do not", () => {
  const c = clips([
    { path: "a", duration: 2, transition_out: "crossfade", transition_duration: 0.5 },
    { path: "b", duration: 3 },
    { path: "c", duration: 1, transition_in: "wipeleft", transition_duration: 0.25 },
  ]);
  const t = buildTimeline(c, [video(5), video(5), video(5)], 30);
  assert.deepEqual(t.clipFrames, [60, 90, 30]);
  assert.deepEqual(
    t.joins.map((j) => j.frames),
    [15, 8],
  );
  assert.deepEqual(t.starts, [0, 45, 127]);
  assert.equal(t.totalFrames, 60 + 90 + 30 - 15 - 8);
});

test("clip length defaults to the trimmed source; first/last clip fades keep the total", () => {
  const c = clips([
    { path: "a", trim_start: 1, trim_end: 2.5, transition_in: "dip_to_white" },
    { path: "b", transition_out: "dip_to_black", transition_duration: 1 },
  ]);
  const t = buildTimeline(c, [video(10), video(2)], 24);
  assert.deepEqual(t.clipFrames, [36, 48]);
  assert.equal(t.head?.colour, "white");
  assert.equal(t.tail?.colour, "black");
  assert.equal(t.tail?.frames, 24);
  assert.equal(t.totalFrames, 84);
});

test("transition_in of the next clip wins over transition_out of the previous one", () => {
  const c = clips([
    { path: "a", duration: 2, transition_out: "wipeup" },
    { path: "b", duration: 2, transition_in: "cut" },
  ]);
  const t = buildTimeline(c, [video(5), video(5)], 30);
  assert.equal(t.joins[0]?.xfade, null);
  assert.equal(t.totalFrames, 120);
});

test("beat sync snaps each cut to the nearest marker at least min_shot_s after the clip start", () => {
  const c = clips([
    { path: "a", duration: 2 },
    { path: "b", duration: 2 },
    { path: "c", duration: 2 },
    { path: "d", duration: 1 },
  ]);
  const beat = parseAssembleParams({
    clips: [{ path: "x" }],
    beat_sync: { enabled: true, beat_markers: [0.5, 1.9, 2.4, 3.1, 4.5, 5.2], min_shot_s: 1 },
  }).beat_sync;
  const t = buildTimeline(c, [video(9), video(9), video(9), video(9)], 30, beat);
  // Cut 1: nominal 2 → 1.9. Cut 2: nominal 3.9, allowed ≥ 2.9: 4.5 (0.6 away) beats 3.1 (0.8).
  // Cut 3: nominal 6.5, allowed ≥ 5.5: no marker left, so the clip keeps its 2 s.
  assert.deepEqual(
    t.starts.map((s) => s / 30),
    [0, 1.9, 4.5, 6.5],
  );
  assert.equal(t.totalFrames, Math.round(7.5 * 30));
});

test("beat sync with crossfades: the next clip starts on the marker", () => {
  const c = clips([
    { path: "a", duration: 2, transition_out: "crossfade", transition_duration: 0.5 },
    { path: "b", duration: 2 },
  ]);
  const beat = parseAssembleParams({ clips: [{ path: "x" }], beat_sync: { enabled: true, beat_markers: [1.2], min_shot_s: 1 } }).beat_sync;
  const t = buildTimeline(c, [video(9), video(9)], 25, beat);
  assert.equal(t.starts[1], 30);
  assert.equal(t.clipFrames[0], 30 + 13);
});

test("marker modes: every_n keeps every n-th beat, downbeats uses the downbeat list", () => {
  const p = (b: Record<string, unknown>) => parseAssembleParams({ clips: [{ path: "x" }], beat_sync: { enabled: true, ...b } }).beat_sync!;
  assert.deepEqual(chosenMarkers(p({ beat_markers: [1, 2, 3, 4, 5, 6], mode: "every_n", n: 2 })), [1, 3, 5]);
  assert.deepEqual(chosenMarkers(p({ beat_markers: [1, 2, 3], mode: "downbeats", downbeats: [4, 2] })), [2, 4]);
  assert.deepEqual(chosenMarkers(p({ beat_markers: [3, 0, 1, 1] })), [1, 3]);
});

test("beat sync enabled without markers names beat_sync.beat_markers", () => {
  rejects(() => parseAssembleParams({ clips: [{ path: "a" }], beat_sync: { enabled: true } }), "beat_sync.beat_markers");
  rejects(() => parseAssembleParams({ clips: [{ path: "a" }], beat_sync: { enabled: true, beat_markers: [1], mode: "downbeats" } }), "beat_sync.downbeats");
  assert.equal(parseAssembleParams({ clips: [{ path: "a" }], beat_sync: { enabled: false } }).beat_sync?.enabled, false);
});

test("an unknown transition is rejected with the list of valid names", () => {
  const err = rejects(() => clips([{ path: "a", transition_out: "starwipe" }]), "clips[0].transition_out");
  assert.match(err.message, /unknown transition 'starwipe'/);
  for (const name of ["cut", "crossfade", "dip_to_black", "dip_to_white", "wipeleft", "fadeslow", "zoomin"])
    assert.match(err.message, new RegExp(`\\b${name}\\b`));
  assert.equal(TRANSITION_NAMES.length, 4 + 46);
});

test("bad clip lists and durations name their field", () => {
  rejects(() => parseAssembleParams({ clips: [] }), "clips");
  rejects(() => parseAssembleParams({ clips: Array.from({ length: 501 }, () => ({ path: "a" })) }), "clips");
  rejects(() => clips([{ path: "a", duration: 0 }]), "clips.0.duration");
  rejects(() => clips([{ path: "a" }, { duration: 1 }]), "clips.1.path");
  rejects(() => clips([{ path: "a", trim_start: 2, trim_end: 1 }]), "clips[0].trim_end");
  rejects(() => clips([{ path: "a", motion: "spin" }]), "clips.0.motion");
  rejects(() => parseAssembleParams({ clips: [{ path: "a" }], audio: { volume: 1 } }), "audio.path");
  rejects(() => buildTimeline(clips([{ path: "a", trim_start: 5 }]), [video(3)], 30), "clips[0].trim_start");
  rejects(() => buildTimeline(clips([{ path: "a" }]), [video(0)], 30), "clips[0].path");
  rejects(() => buildTimeline(clips([{ path: "a", duration: 0.01 }]), [video(3)], 30), "clips[0].duration");
});

test("a transition longer than its clip is rejected", () => {
  const c = clips([
    { path: "a", duration: 1, transition_out: "fade", transition_duration: 0.6 },
    { path: "b", duration: 1, transition_out: "fade", transition_duration: 0.6 },
    { path: "c", duration: 1 },
  ]);
  rejects(() => buildTimeline(c, [video(5), video(5), video(5)], 30), "clips[1].transition_duration");
});
