// video.assemble's one definition (plugins/video/job-types.ts): the rules the API applied
// before it existed (route schema first, then the plugin's checks) hold on the plugin path too.
import { test } from "vitest";
import assert from "node:assert/strict";
import { FarmError } from "../../core/errors.ts";
import { parseAssembleParams } from "../../plugins/video/src/params-assemble.ts";
import { parseOutputSettings } from "../../plugins/video/src/output-settings.ts";
import plugin from "../../plugins/video/index.ts";
import { VIDEO_ASSEMBLE } from "../../plugins/video/job-types.ts";

function field(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FarmError && err.code === "VALIDATION_ERROR", String(err));
    return err.details?.field as string | undefined;
  }
  assert.fail("expected a VALIDATION_ERROR");
}

const clip = { path: "inputs/a.mp4" };

test("the route's defaults: audio.volume 0.8, beat sync off, clip audio kept", () => {
  const p = parseAssembleParams({ clips: [clip], audio: { path: "m.mp3" }, beat_sync: { beat_markers: [1] } });
  assert.equal(p.audio?.volume, 0.8);
  assert.equal(p.audio?.clip_volume, 1);
  assert.equal(p.audio?.keep_clip_audio, true);
  assert.deepEqual(p.audio?.ducking, { enabled: false, threshold: 0.05, ratio: 8 });
  assert.equal(p.beat_sync?.enabled, false);
  // An object without `enabled` ducks, with the plugin's strength defaults.
  assert.deepEqual(parseAssembleParams({ clips: [clip], audio: { path: "m.mp3", ducking: { ratio: 4 } } }).audio?.ducking, {
    enabled: true,
    threshold: 0.05,
    ratio: 4,
  });
});

test("each bound is the tighter of route and plugin", () => {
  assert.equal(parseAssembleParams({ clips: [{ ...clip, duration: 3600 }] }).clips[0]?.duration, 3600);
  assert.equal(
    field(() => parseAssembleParams({ clips: [{ ...clip, duration: 3601 }] })),
    "clips.0.duration",
  );
  assert.equal(parseAssembleParams({ clips: [clip], beat_sync: { n: 64 } }).beat_sync?.n, 64);
  assert.equal(
    field(() => parseAssembleParams({ clips: [clip], beat_sync: { n: 65 } })),
    "beat_sync.n",
  );
  const duck = (threshold: number) => parseAssembleParams({ clips: [clip], audio: { path: "m.mp3", ducking: { threshold } } });
  assert.equal(duck(0.000976563).audio?.ducking.threshold, 0.000976563);
  assert.equal(
    field(() => duck(0.0005)),
    // A union (boolean or object): parseParams names the union field.
    "audio.ducking",
  );
});

test("numbers sent as strings are refused, as the route refuses them", () => {
  assert.equal(
    field(() => parseAssembleParams({ clips: [{ ...clip, duration: "2" }] })),
    "clips.0.duration",
  );
  assert.equal(
    field(() => parseAssembleParams({ clips: [clip], audio: { path: "m.mp3", volume: "1" } })),
    "audio.volume",
  );
});

test("the manifest advertises the one definition", () => {
  const spec = plugin.manifest.job_types.find((j) => j.type === "video.assemble");
  assert.equal(spec, VIDEO_ASSEMBLE);
  assert.deepEqual((spec?.params as { required?: string[] }).required, ["clips"]);
});

test("the encoder tier is named `quality` only: a `quality_tier` is refused naming it, never read as the tier", () => {
  const raw = parseAssembleParams({ clips: [clip], output_settings: { quality: "draft" } }).output_settings;
  assert.equal(parseOutputSettings(raw, { width: 1920, height: 1080, fps: 30 }).quality, "draft");
  assert.equal(
    field(() => parseAssembleParams({ clips: [clip], output_settings: { quality_tier: "draft" } })),
    "output_settings.quality_tier",
  );
});
