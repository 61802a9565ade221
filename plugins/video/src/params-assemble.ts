/**
 * video.assemble params: the spec's request body, where every media path is an artifact key.
 * Shapes, bounds and the route's defaults are the job type's one schema (../job-types.ts,
 * checked by parseParams, fields named as for other types: `clips.1.duration`); what a
 * schema cannot say is checked here (trim order, transition names, beat markers when beat
 * sync is on), and the plugin's own defaults are filled. Nothing is fetched or probed here.
 */
import type { Static } from "typebox";
import { validation } from "../../../core/errors.ts";
import { parseParams } from "../../../core/job-types/parse.ts";
import { TRANSITION_NAMES, xfadeFor } from "./data.ts";
import type { Motion } from "./motion.ts";
import { MAX_CLIP_S, MAX_CLIPS, VideoAssembleParams } from "../job-types.ts";

export { MAX_CLIP_S, MAX_CLIPS };
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

type Raw = Static<typeof VideoAssembleParams>;
type RawClip = Raw["clips"][number];

function transitionName(name: string | undefined, field: string): string | undefined {
  if (name === undefined) return undefined;
  if (xfadeFor(name) === undefined) {
    throw validation(field, "enum", `${field}: unknown transition '${name}'. Valid transitions: ${TRANSITION_NAMES.join(", ")}`, {
      allowed: [...TRANSITION_NAMES],
    });
  }
  return name;
}

function parseClip(c: RawClip, i: number): ClipParams {
  const f = `clips[${i}]`;
  const trim_start = c.trim_start ?? 0;
  if (c.trim_end !== undefined && c.trim_end <= trim_start) {
    throw validation(`${f}.trim_end`, "> trim_start", `${f}.trim_end (${c.trim_end}) must be after trim_start (${trim_start}): the clip would be empty`);
  }
  return {
    path: c.path,
    duration: c.duration,
    trim_start,
    trim_end: c.trim_end,
    transition_in: transitionName(c.transition_in, `${f}.transition_in`),
    transition_out: transitionName(c.transition_out, `${f}.transition_out`),
    transition_duration: c.transition_duration,
    motion: c.motion ?? "none",
    motion_strength: c.motion_strength ?? 0.5,
  };
}

function parseAudio(a: Raw["audio"]): AudioParams | undefined {
  if (!a) return undefined;
  // `ducking: true|false` is shorthand for `{ enabled }`; an object without `enabled` ducks.
  const d = typeof a.ducking === "object" ? a.ducking : { enabled: a.ducking ?? false };
  return {
    path: a.path,
    volume: a.volume ?? 0.8,
    fade_in: a.fade_in ?? 0,
    fade_out: a.fade_out ?? 0,
    start: a.start ?? 0,
    clip_volume: a.clip_volume ?? 1,
    keep_clip_audio: a.keep_clip_audio ?? true,
    ducking: { enabled: d.enabled ?? true, threshold: d.threshold ?? 0.05, ratio: d.ratio ?? 8 },
  };
}

function parseBeatSync(b: Raw["beat_sync"]): BeatSyncParams | undefined {
  if (!b) return undefined;
  const enabled = b.enabled ?? false;
  const mode = b.mode ?? "every_beat";
  const markers = b.beat_markers ?? [];
  const downbeats = b.downbeats ?? [];
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
  return { enabled, beat_markers: markers, mode, n: b.n ?? 4, downbeats, min_shot_s: b.min_shot_s ?? 2 };
}

export function parseAssembleParams(params: Record<string, unknown>): AssembleParams {
  const p = parseParams(VideoAssembleParams, params);
  return {
    clips: p.clips.map(parseClip),
    audio: parseAudio(p.audio),
    beat_sync: parseBeatSync(p.beat_sync),
    output_settings: p.output_settings,
  };
}
