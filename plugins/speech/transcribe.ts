/**
 * audio.transcribe: artifact -> 16 kHz mono (plugins/audio/decode.ts) -> windows of <= 30 s
 * (Silero VAD regions merged, or fixed windows with overlap) -> per window: log-mel features,
 * Whisper generate with timestamps (and DTW word times) -> segments shifted into the original
 * timeline -> the spec's {text, segments[{start,end,text,words}], language, duration}, plus
 * SRT / VTT in the artifact store when `formats` asks.
 *
 * The language is the forced one, or detected once on the first window (Whisper's own
 * approach: the distribution over language tokens after <|startoftranscript|>), then used for
 * every window so one file gets one language. Progress is reported per window; cancel is
 * checked between windows (a window's generate runs to its end, at most a few seconds).
 */
import path from "node:path";
import { outputUrl } from "../../core/artifact-store.ts";
import { FarmError } from "../../core/errors.ts";
import type { Task, TaskContext } from "../../core/plugin-contract.ts";
import { decodeAudio } from "../audio/decode.ts";
import { parseTranscribeParams, type SubtitleFormat } from "./params.ts";
import { toSrt, toVtt } from "./subtitles.ts";
import { tokensToSegments, type Segment } from "./tokens.ts";
import { DEFAULT_VAD, VAD_SR, type SileroVad } from "./vad.ts";
import type { WhisperHandle } from "./whisper-model.ts";
import { fixedWindows, vadWindows, type AudioWindow } from "./windows.ts";

export interface SpeechSettings {
  /** Longest audio accepted, seconds. Default 3600. */
  maxSeconds: number;
  /** Overlap of fixed windows when VAD is off, seconds. Default 2. */
  overlapS: number;
  /** Silence that splits VAD regions before merging into windows. Default 300 ms: shorter pauses stay inside one region. */
  vadMinSilenceMs: number;
}

export function speechSettings(config: Record<string, unknown>): SpeechSettings {
  const get = (key: string, dflt: number, ok: (v: number) => boolean): number => {
    const v = config[key];
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) {
      throw new FarmError("VALIDATION_ERROR", `plugins.speech.${key} is invalid (${String(v)})`, {
        field: `plugins.speech.${key}`,
        constraint: "number in range",
      });
    }
    return v;
  };
  return {
    maxSeconds: get("max_seconds", 3600, (v) => v > 0 && v <= 6 * 3600),
    overlapS: get("overlap_s", 2, (v) => v >= 0 && v < 10),
    vadMinSilenceMs: get("vad_min_silence_ms", 300, (v) => v >= 0 && v <= 5000),
  };
}

export interface TranscriptResult {
  text: string;
  segments: Segment[];
  language: string;
  duration: number;
}

/** The part after the audio is in memory: windows, model calls, merge. Exposed for the bench. */
export async function transcribeSamples(
  samples: Float32Array,
  h: WhisperHandle,
  vad: SileroVad | null,
  opts: {
    language?: string;
    task: "transcribe" | "translate";
    wordTimestamps: boolean;
    settings: SpeechSettings;
    signal?: AbortSignal;
    progress?: (pct: number, message: string) => void;
  },
): Promise<TranscriptResult> {
  const duration = samples.length / VAD_SR;
  let windows: AudioWindow[];
  if (vad) {
    const regions = await vad.detect(samples, { ...DEFAULT_VAD, minSilenceMs: opts.settings.vadMinSilenceMs }, opts.signal);
    windows = vadWindows(regions);
  } else {
    windows = fixedWindows(duration, 30, opts.settings.overlapS);
  }
  opts.progress?.(10, `${windows.length} window(s) to transcribe`);
  if (opts.language && h.languages.length > 0 && !h.languages.includes(opts.language)) {
    throw new FarmError("VALIDATION_ERROR", `language '${opts.language}' is not one ${h.id} knows`, { field: "language", constraint: h.languages.join(", ") });
  }
  let language = opts.language;
  const segments: Segment[] = [];
  for (let i = 0; i < windows.length; i++) {
    if (opts.signal?.aborted) throw new FarmError("JOB_CANCELLED", `transcription cancelled after ${i}/${windows.length} windows`);
    const w = windows[i]!;
    const a = Math.round(w.start * VAD_SR);
    const b = Math.min(samples.length, Math.round(w.end * VAD_SR));
    const features = await h.features(samples.subarray(a, b));
    language ??= await h.detectLanguage(features);
    const out = await h.generate(features, { language, task: opts.task, wordTimestamps: opts.wordTimestamps });
    const local = tokensToSegments(out.tokens, out.times, h.layout, h.tokenizer, (b - a) / VAD_SR, language);
    for (const s of local) {
      const shifted = shift(s, w.start);
      const mid = (shifted.start + shifted.end) / 2;
      if (mid >= w.keepFrom && mid < w.keepTo) segments.push(shifted);
    }
    opts.progress?.(10 + Math.floor((85 * (i + 1)) / windows.length), `Transcribed window ${i + 1}/${windows.length}`);
  }
  const out = segments.map((s) => ({ ...s, text: s.text.trim() }));
  return {
    text: out
      .map((s) => s.text)
      .join(" ")
      .trim(),
    segments: out,
    language: language ?? "en",
    duration: Math.round(duration * 1000) / 1000,
  };
}

const r3 = (s: number) => Math.round(s * 1000) / 1000;
const shift = (s: Segment, by: number): Segment => ({
  start: r3(s.start + by),
  end: r3(s.end + by),
  text: s.text,
  words: s.words.map((w) => ({ word: w.word, start: r3(w.start + by), end: r3(w.end + by) })),
});

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_");

export async function writeSubtitles(
  ctx: TaskContext,
  jobId: string,
  segments: readonly Segment[],
  formats: readonly SubtitleFormat[],
): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const f of formats) {
    const key = `outputs/transcripts/transcript-${safe(jobId)}.${f}`;
    const body = f === "srt" ? toSrt(segments) : toVtt(segments);
    await ctx.artifacts.put(key, Buffer.from(body, "utf8"), { contentType: f === "srt" ? "application/x-subrip" : "text/vtt" });
    urls[`${f}_url`] = outputUrl(key);
  }
  return urls;
}

/** Fetch the input artifact into the task's folder and decode it to 16 kHz mono. */
export async function loadAudio(ctx: TaskContext, key: string, maxSeconds: number): Promise<Float32Array> {
  const stat = await ctx.artifacts.stat(key);
  if (!stat) throw new FarmError("VALIDATION_ERROR", `audio_path not found: ${key}`, { field: "audio_path", constraint: "an existing artifact key" });
  const local = path.join(ctx.workDir, `input${path.extname(key).slice(0, 12) || ".bin"}`);
  await ctx.artifacts.getToFile(key, local);
  return decodeAudio(local, { sampleRate: VAD_SR, maxSeconds, signal: ctx.signal, trackChild: ctx.trackChild });
}

export async function runTranscribe(task: Task, ctx: TaskContext, h: WhisperHandle, vad: () => Promise<SileroVad>): Promise<Record<string, unknown>> {
  const p = parseTranscribeParams(task.params);
  const settings = speechSettings(ctx.config);
  ctx.progress(1, "Decoding audio");
  const samples = await loadAudio(ctx, p.audioPath, settings.maxSeconds);
  ctx.progress(5, p.vad ? "Finding speech (Silero VAD)" : "Fixed 30 s windows");
  const result = await transcribeSamples(samples, h, p.vad ? await vad() : null, {
    ...(p.language ? { language: p.language } : {}),
    task: p.task,
    wordTimestamps: p.wordTimestamps,
    settings,
    signal: ctx.signal,
    progress: (pct, msg) => ctx.progress(pct, msg),
  });
  const urls = await writeSubtitles(ctx, task.job_id, result.segments, p.formats);
  ctx.progress(100, `${result.segments.length} segment(s)`);
  return { ...result, model: h.id, ...urls };
}
