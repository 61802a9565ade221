/**
 * video.assemble params: the spec's request body, where every media path is an artifact key.
 * Parsing is strict and names the field on every error; nothing is fetched or probed here.
 */
import { validation } from "../../../core/errors.ts";
import { TRANSITION_NAMES, xfadeFor } from "./data.ts";
import { MOTIONS, type Motion } from "./motion.ts";
import { bool, int, num, numArray, obj, oneOf, optObj, positive, str, type Obj } from "./validate.ts";

export const MAX_CLIPS = 500;
/** Longest clip and longest timeline we accept (seconds). */
export const MAX_CLIP_S = 3600;
export const DEFAULT_TRANSITION_S = 0.5;
export const DEFAULT_STILL_S = 3;

export interface ClipParams {
  /** Artifact key of a video or a still image. */
  path: string;
  /** Seconds on the timeline, transitions' overlap included. Default: the trimmed source length (videos), 3 s (stills). */
  duration?: number;
  /** Seconds into the source where the clip starts (videos). Default 0. */
  trim_start: number;
  /** Seconds into the source where the clip ends (videos). Default: the source's end. */
  trim_end?: number;
  /** Transition from the previous clip (wins over the previous clip's transition_out). On the first clip: fade in from black/white. */
  transition_in?: string;
  /** Transition into the next clip. On the last clip: fade out to black/white. */
  transition_out?: string;
  /** Seconds each transition of this clip lasts. Default 0.5. */
  transition_duration?: number;
  /** Camera motion for stills. Default "none". */
  motion: Motion | "none";
  /** 0..1: zoom 1.00→1.05 (0) … 1.15 (1). Default 0.5. */
  motion_strength: number;
}

export interface AudioParams {
  /** Artifact key of the music track. */
  path: string;
  /** Music gain, linear. Default 1. */
  volume: number;
  fade_in: number;
  fade_out: number;
  /** Seconds into the music where the video's start lands. Default 0. */
  start: number;
  /** Gain of the clips' own audio, linear. Default 1 (0 mutes it). */
  clip_volume: number;
  /** Keep the clips' own audio under/over the music. Default true. */
  keep_clip_audio: boolean;
  /** Duck the music under clip audio (sidechaincompress). */
  ducking: { enabled: boolean; threshold: number; ratio: number };
}

export type BeatMode = "every_beat" | "every_n" | "downbeats";
export interface BeatSyncParams {
  enabled: boolean;
  beat_markers: number[];
  mode: BeatMode;
  n: number;
  downbeats: number[];
  min_shot_s: number;
}

export interface AssembleParams {
  clips: ClipParams[];
  audio?: AudioParams;
  beat_sync?: BeatSyncParams;
  /** Raw output_settings, parsed by output-settings.ts. */
  output_settings?: unknown;
}

function transitionName(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const name = str(value, field);
  if (xfadeFor(name) === undefined) {
    throw validation(field, "enum", `${field}: unknown transition '${name}'. Valid transitions: ${TRANSITION_NAMES.join(", ")}`, {
      allowed: [...TRANSITION_NAMES],
    });
  }
  return name;
}

function parseClip(raw: unknown, i: number): ClipParams {
  const f = `clips[${i}]`;
  const c = obj(raw, f);
  const trim_start = num(c.trim_start, `${f}.trim_start`, 0, 86_400, 0);
  const trim_end = positive(c.trim_end, `${f}.trim_end`, 86_400);
  if (trim_end !== undefined && trim_end <= trim_start) {
    throw validation(`${f}.trim_end`, "> trim_start", `${f}.trim_end (${trim_end}) must be after trim_start (${trim_start}): the clip would be empty`);
  }
  return {
    path: str(c.path, `${f}.path`),
    duration: positive(c.duration, `${f}.duration`, MAX_CLIP_S),
    trim_start,
    trim_end,
    transition_in: transitionName(c.transition_in, `${f}.transition_in`),
    transition_out: transitionName(c.transition_out, `${f}.transition_out`),
    transition_duration: positive(c.transition_duration, `${f}.transition_duration`, 10),
    motion: oneOf(c.motion, `${f}.motion`, ["none", ...MOTIONS] as const, "none"),
    motion_strength: num(c.motion_strength, `${f}.motion_strength`, 0, 1, 0.5),
  };
}

function parseAudio(raw: unknown): AudioParams | undefined {
  const a = optObj(raw, "audio");
  if (!a) return undefined;
  const duck = a.ducking;
  const d: Obj = typeof duck === "object" && duck !== null ? obj(duck, "audio.ducking") : { enabled: bool(duck, "audio.ducking", false) };
  return {
    path: str(a.path, "audio.path"),
    volume: num(a.volume, "audio.volume", 0, 4, 1),
    fade_in: num(a.fade_in, "audio.fade_in", 0, 600, 0),
    fade_out: num(a.fade_out, "audio.fade_out", 0, 600, 0),
    start: num(a.start, "audio.start", 0, 86_400, 0),
    clip_volume: num(a.clip_volume, "audio.clip_volume", 0, 4, 1),
    keep_clip_audio: bool(a.keep_clip_audio, "audio.keep_clip_audio", true),
    ducking: {
      enabled: bool(d.enabled, "audio.ducking.enabled", true),
      threshold: num(d.threshold, "audio.ducking.threshold", 0.000976563, 1, 0.05),
      ratio: num(d.ratio, "audio.ducking.ratio", 1, 20, 8),
    },
  };
}

function parseBeatSync(raw: unknown): BeatSyncParams | undefined {
  const b = optObj(raw, "beat_sync");
  if (!b) return undefined;
  const enabled = bool(b.enabled, "beat_sync.enabled", true);
  const mode = oneOf(b.mode, "beat_sync.mode", ["every_beat", "every_n", "downbeats"] as const, "every_beat");
  const markers = numArray(b.beat_markers, "beat_sync.beat_markers", 100_000) ?? [];
  const downbeats = numArray(b.downbeats, "beat_sync.downbeats", 100_000) ?? [];
  if (enabled && markers.length === 0 && !(mode === "downbeats" && downbeats.length > 0)) {
    throw validation(
      "beat_sync.beat_markers",
      "required",
      "beat_sync.beat_markers is required when beat sync is enabled (run audio analysis first and pass its beats)",
    );
  }
  if (enabled && mode === "downbeats" && downbeats.length === 0) {
    throw validation("beat_sync.downbeats", "required", "beat_sync.downbeats is required when beat_sync.mode is 'downbeats'");
  }
  return {
    enabled,
    beat_markers: markers,
    mode,
    n: int(b.n, "beat_sync.n", 1, 1000, 4),
    downbeats,
    min_shot_s: num(b.min_shot_s, "beat_sync.min_shot_s", 0, 600, 2),
  };
}

export function parseAssembleParams(params: Record<string, unknown>): AssembleParams {
  const rawClips = params.clips;
  if (!Array.isArray(rawClips) || rawClips.length === 0) throw validation("clips", "non-empty array", "clips must be a non-empty array");
  if (rawClips.length > MAX_CLIPS) throw validation("clips", `max ${MAX_CLIPS}`, `clips has ${rawClips.length} items; at most ${MAX_CLIPS} per render`);
  return {
    clips: rawClips.map(parseClip),
    audio: parseAudio(params.audio),
    beat_sync: parseBeatSync(params.beat_sync),
    output_settings: params.output_settings,
  };
}
