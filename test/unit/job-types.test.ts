/**
 * Job types defined once (core/job-types, plugins/<name>/job-types.ts): the manifest, the
 * API route body, the coordinator's submit check and the plugin's parse all read one
 * definition, and the default model is the definition's everywhere.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { Type } from "typebox";
import { defineJobType } from "../../core/job-types/define.ts";
import { parseParams } from "../../core/job-types/parse.ts";
import { jobTypeBody } from "../../api/job-type-body.ts";
import { ParamCheck } from "../../coordinator/param-check.ts";
import { defaultRequirementsFor } from "../../coordinator/requirements.ts";
import { preparePlugins } from "../../node-agent/plugin-loader.ts";
import { silentLogger } from "../../core/logger.ts";
import { FarmError } from "../../core/errors.ts";
import type { NodeReport } from "../../core/telemetry.ts";
import type { Plugin } from "../../core/plugin-contract.ts";
import { manifest as speechManifest } from "../../plugins/speech/manifest.ts";
import { AUDIO_TRANSCRIBE, AUDIO_VAD, DEFAULT_WHISPER, WHISPER_IDS } from "../../plugins/speech/job-types.ts";
import { manifest as musicgenManifest } from "../../plugins/musicgen/manifest.ts";
import { MUSIC_GENERATE } from "../../plugins/musicgen/job-types.ts";
import { manifest as sunoManifest } from "../../plugins/suno/manifest.ts";
import { SUNO_CREDITS, SUNO_GENERATE, SUNO_LYRICS } from "../../plugins/suno/job-types.ts";
import { AUDIO_ANALYZE, AUDIO_DETECT_BEATS } from "../../plugins/audio/job-types.ts";
import { ENHANCE_PROMPT } from "../../plugins/enhance/job-types.ts";
import { manifest as diagManifest } from "../../plugins/diag/manifest.ts";
import { DIAG_ECHO, DIAG_FAIL, DIAG_GPU, DIAG_SLEEP } from "../../plugins/diag/job-types.ts";
import { IMAGE_DEFAULT_MODEL, IMAGE_GENERATE } from "../../core/job-types/image-generate.ts";
import { comfyManifest } from "../../plugins/comfyui/manifest.ts";
import { COMFY_MODELS } from "../../plugins/comfyui/workflows/models.ts";
import { parseAnimateParams as comfyAnimateParse, parseImageParams, parseVideoParams } from "../../plugins/comfyui/jobs/params.ts";
import { KENBURNS_MODEL, VIDEO_ANIMATE } from "../../core/job-types/video-animate.ts";
import { VIDEO_DEFAULT_MODEL, VIDEO_GENERATE } from "../../plugins/comfyui/job-types.ts";
import videoPlugin from "../../plugins/video/index.ts";
import facePlugin from "../../plugins/face/index.ts";
import { FACE_DETECT, FACE_EMBED, FACE_EMBED_REFERENCES, FACE_MODELS } from "../../plugins/face/job-types.ts";
import { FACEPLUGIN_MODEL } from "../../plugins/face/faceplugin/backend.ts";
import { FUSION_MODEL } from "../../plugins/face/fusion/backend.ts";
import { parseDetectParams, parseEmbedParams, parseEmbedReferencesParams } from "../../plugins/face/params.ts";
import { parseAnimateParams as kenburnsParse } from "../../plugins/video/src/animate.ts";
import { manifest as remoteImageManifest, SPEC_REMOTE_MODEL } from "../../plugins/remote-image/manifest.ts";
import { parseRemoteImageParams } from "../../plugins/remote-image/params.ts";

const reportWith = (schemas: Record<string, unknown>): NodeReport => ({ param_schemas: schemas }) as unknown as NodeReport;

test("a definition's default model must be one of its models", () => {
  const params = Type.Object({});
  assert.throws(() => defineJobType({ type: "x.y", models: ["a"], default_model: "b", params }), /default_model 'b' is not one of its models/);
  assert.equal(defineJobType({ type: "x.y", models: ["a"], default_model: "a", params }).default_model, "a");
});

test("the speech manifest's job types are the definitions, object for object", () => {
  assert.equal(
    speechManifest.job_types.find((j) => j.type === "audio.transcribe"),
    AUDIO_TRANSCRIBE,
  );
  assert.equal(
    speechManifest.job_types.find((j) => j.type === "audio.vad"),
    AUDIO_VAD,
  );
});

test("the musicgen and suno manifests list their definitions as they are", () => {
  assert.deepEqual(musicgenManifest.job_types, [MUSIC_GENERATE]);
  assert.deepEqual(sunoManifest.job_types, [SUNO_GENERATE, SUNO_LYRICS, SUNO_CREDITS]);
  assert.ok(MUSIC_GENERATE.models?.includes(MUSIC_GENERATE.default_model!));
  // Types without models get no model field in their body.
  for (const def of [AUDIO_ANALYZE, AUDIO_DETECT_BEATS, ENHANCE_PROMPT])
    assert.equal((jobTypeBody(def) as { properties: Record<string, unknown> }).properties.model, undefined);
  // The quick route leaves out the field it sets itself.
  const quick = jobTypeBody(ENHANCE_PROMPT, { omit: ["enhancement_level"] }) as { required: string[]; properties: Record<string, unknown> };
  assert.equal(quick.properties.enhancement_level, undefined);
  assert.deepEqual(quick.required, ["prompt"]);
});

test("the route body is the params schema, closed, with the model enum defaulting to the definition's default", () => {
  const body = jobTypeBody(AUDIO_TRANSCRIBE, { fields: { audio_path: { type: "string", maxLength: 9 } } }) as {
    required: string[];
    additionalProperties: boolean;
    properties: Record<string, Record<string, unknown>>;
  };
  assert.deepEqual(body.required, ["audio_path"]);
  assert.equal(body.additionalProperties, false);
  assert.deepEqual(body.properties.model, { type: "string", enum: WHISPER_IDS, default: DEFAULT_WHISPER });
  assert.deepEqual(body.properties.audio_path, { type: "string", maxLength: 9 });
  assert.deepEqual(body.properties.task, { type: "string", enum: ["transcribe", "translate"], default: "transcribe" });
  // The params schema itself is untouched (the coordinator's copy stays open to `model`).
  assert.equal((AUDIO_TRANSCRIBE.params as Record<string, unknown>).additionalProperties, undefined);
  const vad = jobTypeBody(AUDIO_VAD, { noModel: true }) as { properties: Record<string, unknown> };
  assert.equal(vad.properties.model, undefined);
});

test("the coordinator checks a submission against the definition's schema (400 naming params.<field>)", () => {
  const check = new ParamCheck(silentLogger);
  const reports = () => [reportWith({ "audio.vad": JSON.parse(JSON.stringify(AUDIO_VAD.params)) })];
  check.check("audio.vad", { audio_path: "k", threshold: 0.4, model: "silero-vad" }, reports, 1);
  assert.throws(
    () => check.check("audio.vad", { audio_path: "k", threshold: 2 }, reports, 1),
    (e: unknown) => {
      assert.ok(e instanceof FarmError);
      assert.equal(e.details?.field, "params.threshold");
      return true;
    },
  );
  assert.throws(
    () => check.check("audio.vad", {}, reports, 1),
    (e: unknown) => e instanceof FarmError && e.details?.field === "params.audio_path",
  );
});

test("the plugin's parse names the field without the params. prefix and fills defaults", () => {
  const schema = Type.Object({ n: Type.Optional(Type.Integer({ minimum: 1, default: 3 })), s: Type.String() }, { additionalProperties: false });
  assert.deepEqual(parseParams(schema, { s: "x" }), { s: "x", n: 3 });
  assert.throws(
    () => parseParams(schema, { s: "x", n: 0 }),
    (e: unknown) => e instanceof FarmError && e.details?.field === "n" && e.details?.constraint === "minimum",
  );
  assert.throws(
    () => parseParams(schema, { s: "x", extra: 1 }),
    (e: unknown) => e instanceof FarmError && e.details?.field === "extra" && /not a known parameter/.test(e.message),
  );
  assert.throws(
    () => parseParams(schema, {}),
    (e: unknown) => e instanceof FarmError && e.details?.field === "s" && e.message === "s is required",
  );
});

test("agents list the definition's default model first, so the coordinator's default is the definition's", async () => {
  const plugin: Plugin = {
    manifest: {
      name: "m",
      version: "1",
      runtime: "cpu",
      job_types: [{ type: "m.run", models: ["small", "big"], default_model: "big" }],
      models: [
        { id: "small", vram_mb: 0, files: [] },
        { id: "big", vram_mb: 0, files: [] },
      ],
    },
    run: async () => ({}),
  };
  const set = await preparePlugins([{ name: "m", plugin }], { modelsDir: "/nonexistent" });
  const caps = set.capabilities();
  assert.deepEqual(caps.models["m.run"], ["big", "small"]);
  const req = defaultRequirementsFor("m.run", {}, [{ ...caps } as unknown as NodeReport]);
  assert.equal(req.model, "big");
});

test("image.generate has one definition: ComfyUI and remote-image advertise the same params object with their own models, and the route refuses what it refuses", async () => {
  const comfy = comfyManifest(COMFY_MODELS).job_types.find((j) => j.type === "image.generate")!;
  const remote = remoteImageManifest.job_types.find((j) => j.type === "image.generate")!;
  assert.equal(comfy.params, IMAGE_GENERATE.params);
  assert.equal(remote.params, IMAGE_GENERATE.params);
  assert.equal(comfy.default_model, IMAGE_DEFAULT_MODEL);
  assert.ok(comfy.models!.includes("sdxl-base-1.0") && !comfy.models!.includes(SPEC_REMOTE_MODEL));
  assert.deepEqual(remote.models, [SPEC_REMOTE_MODEL]);
  // Both plugins on one agent: one schema, so loading them together is no start-up error.
  const set = await preparePlugins(
    [
      { name: "comfyui", plugin: { manifest: comfyManifest(COMFY_MODELS), run: async () => ({}) } },
      { name: "remote-image", plugin: { manifest: remoteImageManifest, run: async () => ({}) } },
    ],
    { modelsDir: "/nonexistent" },
  );
  assert.equal(set.paramSchema("image.generate"), IMAGE_GENERATE.params);
  // The coordinator's check, the plugins' parse: the same answers.
  const check = new ParamCheck(silentLogger);
  const reports = () => [reportWith({ "image.generate": IMAGE_GENERATE.params })];
  for (const [params, field] of [
    [{ prompt: "x", width: 100 }, "width"],
    [{ prompt: " " }, "prompt"],
    [{ prompt: "x", style_preset: "nope" }, "style_preset"],
    [{ prompt: "x", reference_images: ["a", ""] }, "reference_images.1"],
    [{ prompt: "x", seed: -1 }, "seed"],
  ] as const) {
    assert.throws(
      () => check.check("image.generate", params, reports, 1),
      (e: FarmError) => e.details?.field === `params.${field}`,
    );
    for (const parse of [parseImageParams, parseRemoteImageParams])
      assert.throws(
        () => parse(params),
        (e: FarmError) => e.details?.field === field,
      );
  }
  check.check("image.generate", { prompt: "x", seed: null, style_preset: "neon cyberpunk" }, reports, 1);
  assert.deepEqual(parseImageParams({ prompt: "x", seed: null }), { prompt: "x", width: 1024, height: 1024, reference_images: [], return_base64: false });
  assert.equal(parseRemoteImageParams({ prompt: "x", style_preset: "sci fi" }).style_preset, "Sci-Fi");
});

test("diag's manifest is its definitions; diag.echo keeps no schema (its submissions skip the check)", () => {
  assert.deepEqual(diagManifest.job_types, [DIAG_ECHO, DIAG_SLEEP, DIAG_FAIL, DIAG_GPU]);
  assert.equal(DIAG_ECHO.params, undefined);
  // null is "absent" on the mesh path (the defaults apply), and errors keep the params. prefix the submit check uses.
  assert.deepEqual(parseParams(DIAG_SLEEP.params, { seconds: null, child: null }, { nullIsAbsent: true }), { seconds: 1, child: false, block_ms: 0 });
  assert.throws(
    () => parseParams(DIAG_SLEEP.params, { seconds: 4000 }, { fieldPrefix: "params." }),
    (e: FarmError) => e.details?.field === "params.seconds" && e.details.constraint === "maximum",
  );
  const check = new ParamCheck(silentLogger);
  check.check("diag.sleep", { seconds: null, steps: 3 }, () => [reportWith({ "diag.sleep": DIAG_SLEEP.params })], 1);
});

test("video.animate has one definition for kenburns and ComfyUI's image-to-video; video.generate is ComfyUI's", async () => {
  const comfy = comfyManifest(COMFY_MODELS).job_types;
  const animate = comfy.find((j) => j.type === "video.animate")!;
  assert.equal(animate.params, VIDEO_ANIMATE.params);
  assert.equal(animate.default_model, undefined);
  const kb = videoPlugin.manifest.job_types.find((j) => j.type === "video.animate")!;
  assert.equal(kb.params, VIDEO_ANIMATE.params);
  assert.deepEqual([kb.models, kb.default_model], [[KENBURNS_MODEL], KENBURNS_MODEL]);
  const gen = comfy.find((j) => j.type === "video.generate")!;
  assert.equal(gen.params, VIDEO_GENERATE.params);
  assert.equal(gen.default_model, VIDEO_DEFAULT_MODEL);
  // Both plugins on one agent: one schema for video.animate, no start-up error.
  const set = await preparePlugins(
    [
      { name: "comfyui", plugin: { manifest: comfyManifest(COMFY_MODELS), run: async () => ({}) } },
      { name: "video", plugin: { manifest: videoPlugin.manifest, run: async () => ({}) } },
    ],
    { modelsDir: "/nonexistent" },
  );
  assert.equal(set.paramSchema("video.animate"), VIDEO_ANIMATE.params);
  // The same defaults and refusals on both sides.
  const still = { image: "uploads/a.png", prompt: "waves" };
  assert.deepEqual([kenburnsParse(still).motion_strength, kenburnsParse(still).num_frames, comfyAnimateParse(still, "ltx").num_frames], [0.8, 121, 121]);
  for (const bad of [
    { image: "k", fps: 61 },
    { image: "k", motion: "spin" },
    { image: "k", width: 17 },
    { image: "k", codec: "av1" },
  ]) {
    const field = Object.keys(bad)[1]!;
    assert.throws(
      () => kenburnsParse(bad),
      (e: FarmError) => e.details?.field === field,
    );
    assert.throws(
      () => comfyAnimateParse({ ...bad, prompt: "x" }, "ltx"),
      (e: FarmError) => e.details?.field === field,
    );
  }
  assert.throws(
    () => comfyAnimateParse({ image: "k" }, "ltx"),
    (e: FarmError) => e.details?.field === "prompt",
  );
  assert.deepEqual(comfyAnimateParse({ image: "k", prompt: "x", motion: "zoom_in" }, "ltx").ignored, ["motion"]);
  assert.throws(
    () => parseVideoParams({ prompt: "x", width: 100 }),
    (e: FarmError) => e.details?.field === "width",
  );
  assert.equal(parseVideoParams({ prompt: "x", seed: null }).steps, 8);
});

test("the face job types are defined once: the manifest lists them, the parse fills defaults and names fields, the route body derives", () => {
  assert.deepEqual(facePlugin.manifest.job_types, [FACE_DETECT, FACE_EMBED, FACE_EMBED_REFERENCES]);
  assert.ok((FACE_MODELS as readonly string[]).includes(FACEPLUGIN_MODEL));
  assert.ok((FACE_MODELS as readonly string[]).includes(FUSION_MODEL));
  assert.deepEqual(parseEmbedParams({ image: "k", face_index: null }), { image: "k", face_index: "largest" });
  assert.deepEqual(parseDetectParams({ image: "k" }), { image: "k", return_landmarks: true });
  assert.throws(
    () => parseEmbedParams({ image: "k", face_index: -1 }),
    (e: FarmError) => e.details?.field === "face_index",
  );
  assert.throws(
    () => parseEmbedReferencesParams({ images: ["a", 3] }),
    (e: FarmError) => e.details?.field === "images.1",
  );
  assert.throws(
    () => parseEmbedReferencesParams({ images: [] }),
    (e: FarmError) => e.details?.field === "images" && e.details.constraint === "minItems",
  );
  assert.throws(
    () => parseDetectParams({ image: "k", detector: "slow" }),
    (e: FarmError) => e.details?.field === "detector",
  );
  const check = new ParamCheck(silentLogger);
  assert.throws(
    () => check.check("face.embed", { image: "k", face_index: 1000 }, () => [reportWith({ "face.embed": FACE_EMBED.params })], 1),
    (e: FarmError) => e.details?.field === "params.face_index",
  );
  const body = jobTypeBody(FACE_DETECT, { notRequired: ["image"], defaults: { rotation_search: true } }) as {
    required?: string[];
    properties: Record<string, { default?: unknown }>;
  };
  assert.equal(body.required, undefined);
  assert.equal(body.properties.rotation_search!.default, true);
  assert.equal((FACE_DETECT.params.properties.rotation_search as { default?: unknown }).default, undefined);
});
