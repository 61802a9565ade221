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
  rejects(() => parseTranscribeParams({}), "audio_path", "non-empty string", /^audio_path is required/);
  rejects(() => parseTranscribeParams({ audio_path: "a", language: "English" }), "language", "^[a-z]{2,3}$", /Whisper language code/);
  rejects(() => parseTranscribeParams({ audio_path: "a", task: "summarise" }), "task", "transcribe | translate", /'transcribe' or 'translate'/);
  rejects(() => parseTranscribeParams({ audio_path: "a", formats: ["srt", "ass"] }), "formats", "array of srt | vtt", /'srt' and\/or 'vtt'/);
  assert.deepEqual(parseTranscribeParams({ audio_path: "a", formats: ["srt", "srt"] }).formats, ["srt"]);
});

test("VAD options outside their range are refused with the range", () => {
  rejects(() => parseVadParams({ audio_path: "a", threshold: 2 }), "threshold", "number 0.05..0.95", /threshold must be a number in \[0\.05, 0\.95\]/);
});
