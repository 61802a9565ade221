/**
 * The spec walk's table: one entry per spec endpoint with valid requests (and what the
 * farm of api-spec-walk.test.ts — plugins diag, enhance, audio, video — must answer)
 * and invalid ones (the 400 field each must name). Bodies are built from real media.
 *
 * Note on "wrong type" picks: the API's Ajv coerces scalars ("512" -> 512, 5 -> "5",
 * "x" -> ["x"]), so each wrong type here is one no coercion can rescue.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Media } from "./api-fixtures.ts";

export type Expect =
  | { kind: "capability"; jobType: string }
  | { kind: "accepted"; jobType: string }
  | { kind: "ok"; check: (body: Record<string, unknown>) => void }
  | { kind: "error"; status: number; code: string; field?: string };

export interface ValidReq {
  label: string;
  body?: unknown;
  query?: string;
  expect: Expect;
}
export interface BadReq {
  label: string;
  body?: unknown;
  query?: string;
  field: string;
  constraint?: string;
}

export interface WalkCase {
  method: "GET" | "POST";
  path: string;
  /** Fields the OpenAPI body schema must mark required. */
  requiredFields: string[];
  /** Fields the OpenAPI body schema must document. */
  documentedFields: string[];
  valid: (m: Media) => ValidReq[];
  invalid: (m: Media) => BadReq[];
}

const cap = (jobType: string): Expect => ({ kind: "capability", jobType });
const acc = (jobType: string): Expect => ({ kind: "accepted", jobType });
const unknown = (body: Record<string, unknown>, name = "surprise"): BadReq => ({
  label: "unknown field",
  body: { ...body, [name]: 1 },
  field: name,
  constraint: "unknown_field",
});
const missing = (body: Record<string, unknown>, field: string): BadReq => ({ label: `missing ${field}`, body, field, constraint: "required" });

function enhanced(stages: number, prompt: string) {
  return (b: Record<string, unknown>) => {
    assert.match(String(b.job_id), /^[A-Za-z0-9_-]+$/);
    assert.equal(b.original_prompt, prompt);
    assert.equal(typeof b.enhanced_prompt, "string");
    assert.ok(String(b.enhanced_prompt).length > prompt.length, "enhanced prompt is not longer than the idea");
    assert.match(String(b.enhanced_prompt), /lighthouse/i);
    assert.equal(typeof b.negative_prompt, "string");
    assert.equal((b.stages_completed as unknown[]).length, stages, JSON.stringify(b.stages_completed));
  };
}

export const walkCases: WalkCase[] = [
  {
    method: "POST",
    path: "/api/v1/enhance/prompt",
    requiredFields: ["prompt"],
    documentedFields: ["prompt", "style", "platform", "enhancement_level", "include_negative"],
    valid: () => [
      {
        label: "full",
        body: { prompt: "a lighthouse at dusk", style: "Cinematic", platform: "YouTube (16:9)", enhancement_level: "full" },
        expect: { kind: "ok", check: enhanced(7, "a lighthouse at dusk") },
      },
      {
        label: "standard",
        body: { prompt: "a lighthouse in a storm", enhancement_level: "standard" },
        expect: { kind: "ok", check: enhanced(5, "a lighthouse in a storm") },
      },
    ],
    invalid: () => [
      missing({ style: "Cinematic" }, "prompt"),
      { label: "level enum", body: { prompt: "x", enhancement_level: "ultra" }, field: "enhancement_level", constraint: "enum" },
      { label: "prompt object", body: { prompt: { text: "x" } }, field: "prompt", constraint: "type" },
      { label: "include_negative", body: { prompt: "x", include_negative: "maybe" }, field: "include_negative", constraint: "type" },
      { label: "empty prompt", body: { prompt: "" }, field: "prompt", constraint: "minLength" },
      unknown({ prompt: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/enhance/quick",
    requiredFields: ["prompt"],
    documentedFields: ["prompt", "style", "platform"],
    valid: () => [
      {
        label: "quick",
        body: { prompt: "a lighthouse on a cliff", style: "Cinematic" },
        expect: { kind: "ok", check: enhanced(3, "a lighthouse on a cliff") },
      },
    ],
    invalid: () => [
      missing({}, "prompt"),
      { label: "scene_index", body: { prompt: "x", scene_index: "first" }, field: "scene_index", constraint: "type" },
      // quick has no level: sending one is an unknown field, not silently ignored.
      { label: "level on quick", body: { prompt: "x", enhancement_level: "full" }, field: "enhancement_level", constraint: "unknown_field" },
      unknown({ prompt: "x" }, "styel"),
    ],
  },
  {
    method: "GET",
    path: "/api/v1/enhance/styles",
    requiredFields: [],
    documentedFields: [],
    valid: () => [
      {
        label: "styles",
        expect: {
          kind: "ok",
          check: (b) => {
            const styles = b.styles as { name: string; description: string; keywords: string[] }[];
            assert.ok(styles.length >= 5, JSON.stringify(b));
            for (const s of styles) {
              assert.ok(s.name && s.description, JSON.stringify(s));
              assert.ok(Array.isArray(s.keywords) && s.keywords.length > 0);
            }
            assert.ok(styles.some((s) => s.name === "Cinematic"));
          },
        },
      },
    ],
    invalid: () => [],
  },
  {
    method: "POST",
    path: "/api/v1/generate/image",
    requiredFields: ["prompt"],
    documentedFields: ["prompt", "negative_prompt", "model", "width", "height", "style_preset", "reference_images", "character_id", "seed"],
    valid: (m) => [
      {
        label: "refs base64 + data URL",
        body: { prompt: "a cat", width: 512, height: 512, seed: 7, reference_images: [m.pngBase64, m.pngDataUrl] },
        expect: cap("image.generate"),
      },
      // Media is resolved before submission: bytes that are no known format are refused naming the field, not a 503.
      {
        label: "bad ref",
        body: { prompt: "a cat", reference_images: [m.pngDataUrl, "data:image/png;base64,AAAA"] },
        expect: { kind: "error", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", field: "reference_images[1]" },
      },
    ],
    invalid: () => [
      missing({ width: 512 }, "prompt"),
      { label: "width big", body: { prompt: "x", width: "big" }, field: "width", constraint: "type" },
      { label: "width not /8", body: { prompt: "x", width: 100 }, field: "width", constraint: "multipleOf" },
      { label: "seed", body: { prompt: "x", seed: -1 }, field: "seed" },
      unknown({ prompt: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/generate/batch",
    requiredFields: ["prompts"],
    documentedFields: ["prompts", "shared_settings"],
    valid: (m) => [
      {
        label: "batch",
        body: { prompts: ["a cat", "a dog"], shared_settings: { width: 512, height: 512, reference_images: [m.pngDataUrl] } },
        expect: cap("image.generate"),
      },
    ],
    invalid: () => [
      missing({ shared_settings: {} }, "prompts"),
      { label: "empty prompts", body: { prompts: [] }, field: "prompts", constraint: "minItems" },
      // Regression: bodies were coerced, so a string quietly became a one-item array.
      { label: "prompts as a string", body: { prompts: "a cat" }, field: "prompts", constraint: "type" },
      { label: "shared width", body: { prompts: ["x"], shared_settings: { width: "big" } }, field: "shared_settings.width", constraint: "type" },
      {
        label: "shared unknown",
        body: { prompts: ["x"], shared_settings: { sampler: "euler" } },
        field: "shared_settings.sampler",
        constraint: "unknown_field",
      },
      unknown({ prompts: ["x"] }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/video/generate",
    requiredFields: ["prompt"],
    documentedFields: ["prompt", "negative_prompt", "model", "num_frames", "height", "width", "fps", "num_inference_steps", "guidance_scale", "seed"],
    valid: () => [{ label: "ltx", body: { prompt: "waves", num_frames: 25, width: 512, height: 320, fps: 24 }, expect: cap("video.generate") }],
    invalid: () => [
      missing({ num_frames: 25 }, "prompt"),
      { label: "num_frames", body: { prompt: "x", num_frames: "many" }, field: "num_frames", constraint: "type" },
      { label: "num_frames as a numeric string", body: { prompt: "x", num_frames: "25" }, field: "num_frames", constraint: "type" },
      { label: "width /32", body: { prompt: "x", width: 500 }, field: "width", constraint: "multipleOf" },
      unknown({ prompt: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/video/animate",
    requiredFields: ["image"],
    documentedFields: ["image", "prompt", "model", "num_frames", "fps", "motion_strength", "motion"],
    valid: (m) => [
      { label: "base64", query: "?async=true", body: { image: m.pngBase64, motion: "zoom_in", num_frames: 6, fps: 6 }, expect: acc("video.animate") },
      { label: "data URL", query: "?async=true", body: { image: m.pngDataUrl, motion: "pan_left", num_frames: 6, fps: 6 }, expect: acc("video.animate") },
      // An audio file is not an image: refused naming the field before any job exists.
      {
        label: "wav as image",
        query: "?async=true",
        body: { image: m.wavBase64 },
        expect: { kind: "error", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", field: "image" },
      },
    ],
    invalid: () => [
      missing({ motion: "zoom_in" }, "image"),
      { label: "motion enum", body: { image: "x", motion: "spin" }, field: "motion", constraint: "enum" },
      { label: "motion_strength", body: { image: "x", motion_strength: "strong" }, field: "motion_strength", constraint: "type" },
      unknown({ image: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/video/assemble",
    requiredFields: ["clips"],
    documentedFields: ["clips", "audio", "output_settings", "beat_sync"],
    valid: (m) => [
      {
        label: "still + mp3",
        query: "?async=true",
        body: {
          clips: [
            { path: m.pngDataUrl, duration: 1 },
            { path: m.pngBase64, duration: 1, transition_in: "crossfade" },
          ],
          audio: { path: m.mp3Base64, volume: 0.5 },
          output_settings: { resolution: "128x96", fps: 12, quality: "draft" },
        },
        expect: acc("video.assemble"),
      },
    ],
    invalid: () => [
      missing({ audio: { path: "x" } }, "clips"),
      { label: "duration -1", body: { clips: [{ path: "x", duration: -1 }] }, field: "clips[0].duration", constraint: "exclusiveMinimum" },
      { label: "clip without path", body: { clips: [{ path: "x", duration: 1 }, { duration: 1 }] }, field: "clips[1].path", constraint: "required" },
      { label: "codec", body: { clips: [{ path: "x" }], output_settings: { codec: "divx" } }, field: "output_settings.codec", constraint: "enum" },
      unknown({ clips: [{ path: "x" }] }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/audio/analyze",
    requiredFields: ["audio_path"],
    documentedFields: ["audio_path", "analysis_type"],
    valid: (m) => [
      { label: "wav base64", query: "?async=true", body: { audio_path: m.wavBase64, analysis_type: "full" }, expect: acc("audio.analyze") },
      { label: "mp3 data URL", query: "?async=true", body: { audio_path: m.mp3DataUrl }, expect: acc("audio.analyze") },
      { label: "png as audio", body: { audio_path: m.pngBase64 }, expect: { kind: "error", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", field: "audio_path" } },
    ],
    invalid: () => [
      missing({ analysis_type: "full" }, "audio_path"),
      { label: "analysis_type", body: { audio_path: "x", analysis_type: "all" }, field: "analysis_type", constraint: "enum" },
      { label: "audio_path array", body: { audio_path: ["a", "b"] }, field: "audio_path", constraint: "type" },
      unknown({ audio_path: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/audio/detect-beats",
    requiredFields: ["audio_path"],
    documentedFields: ["audio_path"],
    valid: (m) => [
      {
        label: "mp3 sync",
        body: { audio_path: m.mp3DataUrl },
        expect: {
          kind: "ok",
          check: (b) => {
            assert.match(String(b.job_id), /^[A-Za-z0-9_-]+$/);
            assert.ok(Array.isArray(b.beats), JSON.stringify(b));
            assert.ok(b.bpm === null || typeof b.bpm === "number");
          },
        },
      },
      { label: "wav async", query: "?async=true", body: { audio_path: m.wavBase64 }, expect: acc("audio.detect_beats") },
    ],
    invalid: () => [
      missing({}, "audio_path"),
      { label: "audio_path object", body: { audio_path: { url: "x" } }, field: "audio_path", constraint: "type" },
      unknown({ audio_path: "x" }, "analysis_type"),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/audio/transcribe",
    requiredFields: ["audio_path"],
    documentedFields: ["audio_path", "model", "language", "word_timestamps"],
    valid: (m) => [{ label: "wav", body: { audio_path: m.wavBase64, model: "whisper-small", language: "en" }, expect: cap("audio.transcribe") }],
    invalid: () => [
      missing({ model: "whisper-small" }, "audio_path"),
      { label: "model enum", body: { audio_path: "x", model: "whisper-huge" }, field: "model", constraint: "enum" },
      { label: "language", body: { audio_path: "x", language: "English!" }, field: "language", constraint: "pattern" },
      { label: "word_timestamps", body: { audio_path: "x", word_timestamps: "sometimes" }, field: "word_timestamps", constraint: "type" },
      unknown({ audio_path: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/suno/generate",
    requiredFields: ["prompt"],
    documentedFields: ["mode", "prompt", "style", "title", "instrumental", "wait_audio", "model"],
    valid: () => [
      {
        label: "custom",
        body: { mode: "custom", prompt: "[Verse] la la", style: "synthwave", title: "Night", instrumental: false },
        expect: cap("suno.generate"),
      },
    ],
    invalid: () => [
      missing({ mode: "simple" }, "prompt"),
      { label: "mode", body: { prompt: "x", mode: "fancy" }, field: "mode", constraint: "enum" },
      { label: "instrumental", body: { prompt: "x", instrumental: "perhaps" }, field: "instrumental", constraint: "type" },
      unknown({ prompt: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/suno/lyrics",
    requiredFields: ["prompt"],
    documentedFields: ["prompt"],
    valid: () => [{ label: "lyrics", body: { prompt: "a song about rain" }, expect: cap("suno.lyrics") }],
    invalid: () => [
      missing({}, "prompt"),
      { label: "prompt array", body: { prompt: ["a", "b"] }, field: "prompt", constraint: "type" },
      unknown({ prompt: "x" }, "style"),
    ],
  },
  {
    method: "GET",
    path: "/api/v1/suno/credits",
    requiredFields: [],
    documentedFields: [],
    valid: () => [{ label: "credits", expect: cap("suno.credits") }],
    invalid: () => [],
  },
  {
    method: "POST",
    path: "/api/v1/musicgen/generate",
    requiredFields: ["prompt"],
    documentedFields: ["prompt", "model", "duration", "temperature", "top_k", "top_p", "guidance_scale", "seed"],
    valid: () => [{ label: "musicgen", body: { prompt: "calm piano", model: "musicgen-small", duration: 5 }, expect: cap("music.generate") }],
    invalid: () => [
      missing({ duration: 5 }, "prompt"),
      { label: "duration 0", body: { prompt: "x", duration: 0 }, field: "duration", constraint: "exclusiveMinimum" },
      { label: "model enum", body: { prompt: "x", model: "musicgen-huge" }, field: "model", constraint: "enum" },
      unknown({ prompt: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/face/detect",
    requiredFields: [],
    documentedFields: ["image_base64", "image", "model", "return_landmarks"],
    valid: (m) => [
      { label: "base64", body: { image_base64: m.pngBase64, return_landmarks: true }, expect: cap("face.detect") },
      { label: "data URL in image", body: { image: m.pngDataUrl }, expect: cap("face.detect") },
    ],
    invalid: () => [
      missing({ return_landmarks: true }, "image_base64"),
      { label: "return_landmarks", body: { image_base64: "x", return_landmarks: "yes" }, field: "return_landmarks", constraint: "type" },
      { label: "model enum", body: { image_base64: "x", model: "dlib" }, field: "model", constraint: "enum" },
      unknown({ image_base64: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/face/embed",
    requiredFields: [],
    documentedFields: ["image_base64", "image", "model", "face_index"],
    valid: (m) => [{ label: "base64", body: { image_base64: m.pngBase64, face_index: 0 }, expect: cap("face.embed") }],
    invalid: () => [
      missing({ face_index: 0 }, "image_base64"),
      { label: "face_index", body: { image_base64: "x", face_index: -1 }, field: "face_index", constraint: "minimum" },
      unknown({ image_base64: "x" }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/character/register",
    requiredFields: ["name", "reference_images"],
    documentedFields: ["name", "reference_images", "description", "model"],
    valid: (m) => [
      { label: "refs", body: { name: "Ava", description: "lead", reference_images: [m.pngBase64, m.pngDataUrl] }, expect: cap("face.embed_references") },
    ],
    invalid: (m) => [
      missing({ reference_images: [m.pngBase64] }, "name"),
      missing({ name: "Ava" }, "reference_images"),
      { label: "no refs", body: { name: "Ava", reference_images: [] }, field: "reference_images", constraint: "minItems" },
      { label: "ref object", body: { name: "Ava", reference_images: [{ data: "x" }] }, field: "reference_images[0]", constraint: "type" },
      unknown({ name: "Ava", reference_images: ["x"] }),
    ],
  },
  {
    method: "POST",
    path: "/api/v1/character/verify",
    requiredFields: ["character_id", "test_image"],
    documentedFields: ["character_id", "test_image"],
    // Registering needs the face plugin (not loaded): a well-formed id of no character is a 404 after validation.
    valid: (m) => [
      {
        label: "unknown character",
        body: { character_id: randomUUID(), test_image: m.pngBase64 },
        expect: { kind: "error", status: 404, code: "NOT_FOUND", field: "character_id" },
      },
    ],
    invalid: (m) => [
      missing({ test_image: m.pngBase64 }, "character_id"),
      missing({ character_id: randomUUID() }, "test_image"),
      { label: "id not uuid", body: { character_id: "../etc", test_image: m.pngBase64 }, field: "character_id" },
      { label: "image object", body: { character_id: randomUUID(), test_image: { b64: "x" } }, field: "test_image", constraint: "type" },
      unknown({ character_id: randomUUID(), test_image: "x" }),
    ],
  },
];
