import { test } from "vitest";
import assert from "node:assert/strict";
import { fixedWindows, vadWindows } from "../../plugins/speech/windows.ts";
import { toSrt, toVtt } from "../../plugins/speech/subtitles.ts";
import { speechRegions, DEFAULT_VAD } from "../../plugins/speech/vad.ts";
import { parseTranscribeParams, parseVadParams } from "../../plugins/speech/params.ts";
import { tokensToSegments, type WhisperTokenizerLike } from "../../plugins/speech/tokens.ts";

test("vadWindows merges regions while the span stays <= 30 s and cuts a region longer than 30 s into equal pieces", () => {
  const w = vadWindows([
    { start: 1, end: 5 },
    { start: 8, end: 20 },
    { start: 25, end: 31.5 },
    { start: 40, end: 110 },
    { start: 111, end: 112 },
  ]);
  assert.deepEqual(
    w.map((x) => [x.start, x.end]),
    [
      [1, 8 + 12],
      [25, 31.5],
      [40, 40 + 70 / 3],
      [40 + 70 / 3, 40 + 140 / 3],
      [40 + 140 / 3, 112],
    ],
  );
  for (const x of w) assert.ok(x.end - x.start <= 30 + 1e-9);
  assert.deepEqual(vadWindows([]), []);
});

test("fixedWindows: 30 s windows, hop 28 s, keep ranges meet in the middle of each overlap", () => {
  const w = fixedWindows(65, 30, 2);
  assert.deepEqual(
    w.map((x) => [x.start, x.end, x.keepFrom, x.keepTo]),
    [
      [0, 30, 0, 29],
      [28, 58, 29, 57],
      [56, 65, 57, Infinity],
    ],
  );
  assert.deepEqual(
    fixedWindows(10).map((x) => [x.start, x.end]),
    [[0, 10]],
  );
  assert.throws(() => fixedWindows(10, 30, 30), RangeError);
});

test("SRT and VTT: hours, milliseconds, numbering, empty cues dropped, no blank line or arrow inside a cue", () => {
  const segs = [
    { start: 3661.2345, end: 3662.5, text: " One -->\n\ntwo " },
    { start: 0, end: 0.5, text: "  " },
  ];
  assert.equal(toSrt(segs), "1\n01:01:01,235 --> 01:01:02,500\nOne ->\ntwo\n");
  assert.equal(toVtt(segs), "WEBVTT\n\n01:01:01.235 --> 01:01:02.500\nOne ->\ntwo\n");
  assert.equal(toVtt([]), "WEBVTT\n\n");
});

test("speechRegions follows Silero's rules: threshold, hysteresis, min silence, min speech, padding", () => {
  const f = 512 / 16000; // 32 ms frames
  const probs = [
    ...Array(10).fill(0.1),
    ...Array(20).fill(0.9),
    ...Array(2).fill(0.1),
    ...Array(10).fill(0.9),
    ...Array(20).fill(0.1),
    ...Array(3).fill(0.9),
    ...Array(20).fill(0.1),
  ];
  const total = probs.length * 512;
  // the 2-frame (64 ms) dip is shorter than min_silence 100 ms: one region; the 3-frame (96 ms) blip is under min_speech 250 ms
  const r = speechRegions(probs, total, DEFAULT_VAD);
  assert.deepEqual(r, [{ start: Math.round((10 * f - 0.03) * 1000) / 1000, end: Math.round((42 * f + 0.03) * 1000) / 1000 }]);
  // hysteresis: 0.4 is below threshold 0.5 but above 0.35, so it does not end speech
  const h = speechRegions([...Array(10).fill(0.9), ...Array(30).fill(0.4), ...Array(10).fill(0.1)], 50 * 512, { ...DEFAULT_VAD, padMs: 0 });
  assert.deepEqual(h, [{ start: 0, end: Math.round(40 * f * 1000) / 1000 }]);
});

test("transcribe params: defaults and field-named errors", () => {
  assert.deepEqual(parseTranscribeParams({ audio_path: "a.wav" }), { audioPath: "a.wav", task: "transcribe", wordTimestamps: false, formats: [], vad: true });
  assert.deepEqual(parseTranscribeParams({ audio: "a.wav", language: "haw", formats: ["vtt", "srt", "vtt"] }).formats, ["vtt", "srt"]);
  for (const [p, field] of [
    [{}, "audio_path"],
    [{ audio_path: "a", language: "EN" }, "language"],
    [{ audio_path: "a", vad: 1 }, "vad"],
    [{ audio_path: "a", task: "summarize" }, "task"],
  ] as const) {
    assert.throws(
      () => parseTranscribeParams(p),
      (e: { code?: string; details?: { field?: string } }) => e.code === "VALIDATION_ERROR" && e.details?.field === field,
    );
  }
});

test("tokensToSegments: timestamp pairs, a window that ends mid-sentence, words joined on leading spaces", () => {
  // ids: 0 " Hi", 1 " there", 2 "!", 3 " Bye"; 10 = <|endoftext|>; 20 = <|0.00|>
  const pieces = [" Hi", " there", "!", " Bye"];
  const tok: WhisperTokenizerLike = { decode: (ids) => ids.map((i) => pieces[i] ?? "").join("") };
  const layout = { eot: 10, timestampBegin: 20, precision: 0.02 };
  const ts = (s: number) => 20 + Math.round(s / 0.02);
  const tokens = [ts(0), 0, 1, 2, ts(1), ts(1.5), 3];
  const times = [0, 0.1, 0.4, 0.8, 1.0, 1.5, 1.6];
  const segs = tokensToSegments(tokens, times, layout, tok, 2.5);
  assert.deepEqual(segs, [
    {
      start: 0,
      end: 1,
      text: " Hi there!",
      words: [
        { word: "Hi", start: 0.1, end: 0.4 },
        { word: "there!", start: 0.4, end: 1 },
      ],
    },
    { start: 1.5, end: 2.5, text: " Bye", words: [{ word: "Bye", start: 1.6, end: 2.5 }] },
  ]);
  // a segment said to start past the window's end is dropped, not squeezed to zero length
  assert.deepEqual(
    tokensToSegments(tokens, null, layout, tok, 1.2).map((s) => [s.start, s.end]),
    [[0, 1]],
  );
});

test("DEFAULT_VAD is the audio.vad schema's defaults (one definition)", () => {
  const v = parseVadParams({ audio_path: "a.wav" });
  assert.deepEqual(DEFAULT_VAD, v.options);
  assert.deepEqual(DEFAULT_VAD, { threshold: 0.5, minSilenceMs: 100, minSpeechMs: 250, padMs: 30 });
});
