/**
 * Job params of audio.transcribe and audio.vad, validated here too (the API validates its
 * body, but jobs also arrive from farmctl and the mesh). Errors name the field.
 */
import { validation } from "../../core/errors.ts";
import { DEFAULT_VAD, type VadOptions } from "./vad.ts";

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


function audioPath(p: Readonly<Record<string, unknown>>): string {
  const v = p.audio_path ?? p.audio;
  if (typeof v !== "string" || v === "") throw validation("audio_path", "non-empty string", "audio_path is required (an artifact key)");
  return v;
}

function num(p: Readonly<Record<string, unknown>>, field: string, dflt: number, min: number, max: number): number {
  const v = p[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw validation(field, `number ${min}..${max}`, `${field} must be a number in [${min}, ${max}]`);
  return v;
}

export function parseVadOptions(p: Readonly<Record<string, unknown>>): VadOptions {
  return {
    threshold: num(p, "threshold", DEFAULT_VAD.threshold, 0.05, 0.95),
    minSilenceMs: num(p, "min_silence_ms", DEFAULT_VAD.minSilenceMs, 0, 10_000),
    minSpeechMs: num(p, "min_speech_ms", DEFAULT_VAD.minSpeechMs, 0, 10_000),
    padMs: num(p, "pad_ms", DEFAULT_VAD.padMs, 0, 2_000),
  };
}

export function parseVadParams(p: Readonly<Record<string, unknown>>): VadParams {
  return { audioPath: audioPath(p), options: parseVadOptions(p) };
}

export function parseTranscribeParams(p: Readonly<Record<string, unknown>>): TranscribeParams {
  const language = p.language;
  if (language !== undefined && language !== null && (typeof language !== "string" || !/^[a-z]{2,3}$/.test(language))) {
    throw validation("language", "^[a-z]{2,3}$", "language must be a Whisper language code such as 'en' or 'haw'");
  }
  const task = p.task ?? "transcribe";
  if (task !== "transcribe" && task !== "translate") throw validation("task", "transcribe | translate", "task must be 'transcribe' or 'translate'");
  const wt = p.word_timestamps ?? false;
  if (typeof wt !== "boolean") throw validation("word_timestamps", "boolean", "word_timestamps must be a boolean");
  const vad = p.vad ?? true;
  if (typeof vad !== "boolean") throw validation("vad", "boolean", "vad must be a boolean");
  const formats = p.formats ?? [];
  if (!Array.isArray(formats) || formats.some((f) => f !== "srt" && f !== "vtt")) throw validation("formats", "array of srt | vtt", "formats must be a list of 'srt' and/or 'vtt'");
  return {
    audioPath: audioPath(p),
    ...(typeof language === "string" ? { language } : {}),
    task,
    wordTimestamps: wt,
    formats: [...new Set(formats as SubtitleFormat[])],
    vad,
  };
}
