/** Speech job params: each bad field is a VALIDATION_ERROR naming the field and the constraint it broke. */
import assert from "node:assert/strict";
import { test } from "vitest";
import { FarmError } from "../../core/errors.ts";
import { parseTranscribeParams, parseVadParams } from "../../plugins/speech/params.ts";

const rejects = (fn: () => unknown, field: string, constraint: string, message: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FarmError);
    assert.equal(e.code, "VALIDATION_ERROR");
    assert.deepEqual([e.details?.field, e.details?.constraint], [field, constraint]);
    assert.match(e.message, message);
    return true;
  });

test("transcribe params name the bad field, its constraint and a readable message", () => {
  // The schema of plugins/speech/job-types.ts says what the hand checks said; the constraint is its keyword.
  rejects(() => parseTranscribeParams({}), "audio_path", "required", /^audio_path is required/);
  rejects(() => parseTranscribeParams({ audio_path: "a", language: "English language" }), "language", "maxLength", /^language must/);
  rejects(() => parseTranscribeParams({ audio_path: "a", language: "EN" }), "language", "pattern", /^language must match pattern/);
  rejects(() => parseTranscribeParams({ audio_path: "a", task: "summarise" }), "task", "enum", /^task must be equal to one of the allowed values/);
  rejects(() => parseTranscribeParams({ audio_path: "a", formats: ["srt", "ass"] }), "formats.1", "enum", /^formats\.1 must be equal to one of/);
  assert.deepEqual(parseTranscribeParams({ audio_path: "a", formats: ["srt", "srt"] }).formats, ["srt"]);
  rejects(() => parseTranscribeParams({ audio_path: "a", word_timestamps: "yes" }), "word_timestamps", "type", /^word_timestamps must be boolean/);
  // Defaults come from the schema; the caller's object (frozen in embedded mode) is not written.
  const given = Object.freeze({ audio_path: "a", formats: ["vtt"] });
  assert.deepEqual(parseTranscribeParams(given), { audioPath: "a", task: "transcribe", wordTimestamps: false, formats: ["vtt"], vad: true });
  assert.deepEqual(Object.keys(given), ["audio_path", "formats"]);
  assert.equal(parseTranscribeParams({ audio_path: "a", language: "haw", task: "translate" }).language, "haw");
});

test("VAD options outside their range are refused with the range", () => {
  rejects(() => parseVadParams({ audio_path: "a", threshold: 2 }), "threshold", "maximum", /^threshold must be <= 0\.95/);
  rejects(() => parseVadParams({ audio_path: "a", pad_ms: -1 }), "pad_ms", "minimum", /^pad_ms must be >= 0/);
  assert.deepEqual(parseVadParams({ audio_path: "a", threshold: 0.3 }).options, { threshold: 0.3, minSilenceMs: 100, minSpeechMs: 250, padMs: 30 });
});
