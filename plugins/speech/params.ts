/**
 * Job params of audio.transcribe and audio.vad, checked here too against the schemas of
 * job-types.ts (the coordinator checks them at submit, but tasks also reach the plugin
 * without it). Errors name the field; defaults come from the schema.
 */
import { parseParams } from "../../core/job-types/parse.ts";
import { TranscribeParams as TranscribeSchema, VadParams as VadSchema } from "./job-types.ts";
import type { VadOptions } from "./vad.ts";

export type SubtitleFormat = "srt" | "vtt";

export interface TranscribeParams {
  audioPath: string;
  /** Forced language code, or undefined to detect it. */
  language?: string;
  task: "transcribe" | "translate";
  wordTimestamps: boolean;
  formats: SubtitleFormat[];
  /** VAD windowing (default) or fixed 30 s windows with overlap. */
  vad: boolean;
}

export interface VadParams {
  audioPath: string;
  options: VadOptions;
}

type P = Readonly<Record<string, unknown>>;

/**
 * What direct callers (tests, embedded use) may still send: `audio` for `audio_path`, and
 * repeated subtitle formats (kept once). Submissions through the coordinator are checked
 * against the schema as written.
 */
function lenient(p: P): P {
  let q = p;
  if (q.audio_path === undefined && q.audio !== undefined) q = { ...q, audio_path: q.audio };
  if (Array.isArray(q.formats)) q = { ...q, formats: [...new Set(q.formats as unknown[])] };
  return q;
}

export function parseVadParams(p: P): VadParams {
  const v = parseParams(VadSchema, lenient(p));
  // The schema's defaults filled every option.
  return { audioPath: v.audio_path, options: { threshold: v.threshold!, minSilenceMs: v.min_silence_ms!, minSpeechMs: v.min_speech_ms!, padMs: v.pad_ms! } };
}

export function parseTranscribeParams(p: P): TranscribeParams {
  const v = parseParams(TranscribeSchema, lenient(p));
  return {
    audioPath: v.audio_path,
    ...(v.language !== undefined ? { language: v.language } : {}),
    task: v.task!,
    wordTimestamps: v.word_timestamps!,
    formats: v.formats ?? [],
    vad: v.vad!,
  };
}
