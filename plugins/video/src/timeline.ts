/**
 * The timeline, in whole output frames, so nothing drifts: clip lengths, transition
 * lengths and clip start times are integers of frames at the output fps.
 *
 * Timeline rule: a transition between two clips OVERLAPS them. Clip i+1 starts
 * `transition` frames before clip i ends, so each transition shortens the total by its
 * duration:  total = Σ clip durations − Σ transition durations (cuts are 0).
 * A first clip's transition_in / last clip's transition_out fade from / to a colour
 * *inside* the clip and do not change the total. The reported duration is total / fps,
 * and ffprobe on the output measures the same.
 */
import { validation } from "../../../core/errors.ts";
import { tailColour, xfadeFor } from "./data.ts";
import { chosenMarkers, snapCut } from "./beat-sync.ts";
import { DEFAULT_STILL_S, DEFAULT_TRANSITION_S, type BeatSyncParams, type ClipParams } from "./params-assemble.ts";

/** Longest timeline we render (seconds). */
export const MAX_TOTAL_S = 4 * 3600;

export interface SourceInfo {
  kind: "image" | "video";
  /** Source length in seconds (0 for stills). */
  duration: number;
}

export interface Join {
  /** xfade transition name, null for a hard cut. */
  xfade: string | null;
  /** Overlap in frames (0 for a cut). */
  frames: number;
  /** The request's name ("crossfade", "wipeleft", …). */
  name: string;
}

export interface Edge extends Join {
  colour: "black" | "white";
}

export interface Timeline {
  fps: number;
  /** Frames of each clip (its whole visible length, overlaps included). */
  clipFrames: number[];
  /** First output frame of each clip. */
  starts: number[];
  /** joins[i] sits between clip i and clip i+1. */
  joins: Join[];
  head: Edge | null;
  tail: Edge | null;
  totalFrames: number;
}

const framesOf = (s: number, fps: number) => Math.round(s * fps);

function joinBetween(a: ClipParams, b: ClipParams, fps: number): Join {
  const name = b.transition_in ?? a.transition_out ?? "cut";
  const xfade = xfadeFor(name) ?? null;
  if (xfade === null) return { xfade, frames: 0, name };
  const seconds = (b.transition_in !== undefined ? b.transition_duration : a.transition_duration) ?? DEFAULT_TRANSITION_S;
  return { xfade, frames: Math.max(1, framesOf(seconds, fps)), name };
}

function edge(name: string | undefined, clip: ClipParams, fps: number): Edge | null {
  if (name === undefined) return null;
  const xfade = xfadeFor(name) ?? null;
  if (xfade === null) return null;
  return { xfade, name, colour: tailColour(name), frames: Math.max(1, framesOf(clip.transition_duration ?? DEFAULT_TRANSITION_S, fps)) };
}

/** Seconds a clip lasts before beat sync: duration, else the trimmed source, else 3 s for stills. */
export function nominalSeconds(clip: ClipParams, src: SourceInfo, i: number): number {
  if (src.kind === "video") {
    if (src.duration <= 0) throw validation(`clips[${i}].path`, "non-empty media", `clips[${i}].path: the video has zero length`);
    if (clip.trim_start >= src.duration) {
      throw validation(
        `clips[${i}].trim_start`,
        `< ${src.duration}`,
        `clips[${i}].trim_start (${clip.trim_start} s) is at or past the end of the video (${src.duration.toFixed(3)} s)`,
      );
    }
  }
  if (clip.duration !== undefined) return clip.duration;
  if (src.kind === "image") return DEFAULT_STILL_S;
  return Math.min(clip.trim_end ?? src.duration, src.duration) - clip.trim_start;
}

export function buildTimeline(clips: ClipParams[], sources: SourceInfo[], fps: number, beat?: BeatSyncParams): Timeline {
  const n = clips.length;
  const joins: Join[] = [];
  for (let i = 0; i + 1 < n; i++) joins.push(joinBetween(clips[i]!, clips[i + 1]!, fps));
  const head = edge(clips[0]!.transition_in, clips[0]!, fps);
  const tail = edge(clips[n - 1]!.transition_out, clips[n - 1]!, fps);
  const inFrames = (i: number) => (i === 0 ? (head?.frames ?? 0) : joins[i - 1]!.frames);
  const outFrames = (i: number) => (i === n - 1 ? (tail?.frames ?? 0) : joins[i]!.frames);

  const clipFrames: number[] = [];
  const starts: number[] = [];
  const markersF = beat?.enabled ? chosenMarkers(beat).map((m) => framesOf(m, fps)) : [];
  const minShot = beat ? framesOf(beat.min_shot_s, fps) : 0;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const nominal = framesOf(nominalSeconds(clips[i]!, sources[i]!, i), fps);
    if (nominal < 1) throw validation(`clips[${i}].duration`, ">= 1 frame", `clips[${i}]: duration is shorter than one frame at ${fps} fps`);
    let frames = nominal;
    if (i < n - 1 && markersF.length > 0) {
      const k = joins[i]!.frames;
      const cut = snapCut(markersF, start + Math.max(minShot, inFrames(i), 1), start + nominal - k);
      if (cut !== null) frames = cut - start + k;
    }
    if (inFrames(i) + outFrames(i) > frames) {
      throw validation(
        `clips[${i}].transition_duration`,
        "fits the clip",
        `clips[${i}]: transitions (${(inFrames(i) / fps).toFixed(3)} s in + ${(outFrames(i) / fps).toFixed(3)} s out) are longer than the clip (${(frames / fps).toFixed(3)} s)`,
      );
    }
    if (i > 0 && joins[i - 1]!.frames > clipFrames[i - 1]!) {
      throw validation(`clips[${i}].transition_duration`, "fits the clip", `clips[${i}]: the transition is longer than the previous clip`);
    }
    clipFrames.push(frames);
    starts.push(start);
    start += frames - outFrames(i) * (i < n - 1 ? 1 : 0);
  }
  const totalFrames = starts[n - 1]! + clipFrames[n - 1]!;
  if (totalFrames / fps > MAX_TOTAL_S) {
    throw validation("clips", `total <= ${MAX_TOTAL_S} s`, `the timeline is ${(totalFrames / fps).toFixed(1)} s; at most ${MAX_TOTAL_S} s per render`);
  }
  return { fps, clipFrames, starts, joins, head, tail, totalFrames };
}
