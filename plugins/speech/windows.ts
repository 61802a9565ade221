/**
 * Long audio -> decoding windows of at most 30 s (Whisper's receptive field).
 *
 * With VAD: consecutive speech regions are merged while the merged span stays within the
 * limit, so a window never cuts through a region the VAD saw as speech unless that region
 * alone is longer than the limit (then it is cut into equal pieces). Silence and music
 * between windows is never sent to the model: that is where Whisper hallucinates.
 * Without VAD: fixed windows with overlap; each window "keeps" the segments whose midpoint
 * falls in its half of each overlap, so a sentence in an overlap is reported once.
 */
import type { SpeechRegion } from "./vad.ts";

export interface AudioWindow {
  /** Seconds in the original audio. */
  start: number;
  end: number;
  /** Segments are kept when their midpoint lies in [keepFrom, keepTo). */
  keepFrom: number;
  keepTo: number;
}

export function vadWindows(regions: readonly SpeechRegion[], maxS = 30): AudioWindow[] {
  const out: AudioWindow[] = [];
  const push = (start: number, end: number) => out.push({ start, end, keepFrom: start, keepTo: end });
  let cur: { start: number; end: number } | null = null;
  for (const r of regions) {
    if (cur && r.end - cur.start <= maxS) {
      cur.end = r.end;
      continue;
    }
    if (cur) push(cur.start, cur.end);
    if (r.end - r.start > maxS) {
      const pieces = Math.ceil((r.end - r.start) / maxS);
      const len = (r.end - r.start) / pieces;
      for (let i = 0; i < pieces - 1; i++) push(r.start + i * len, r.start + (i + 1) * len);
      cur = { start: r.start + (pieces - 1) * len, end: r.end };
    } else {
      cur = { start: r.start, end: r.end };
    }
  }
  if (cur) push(cur.start, cur.end);
  return out;
}

export function fixedWindows(duration: number, windowS = 30, overlapS = 2): AudioWindow[] {
  if (duration <= 0) return [];
  if (overlapS < 0 || overlapS >= windowS) throw new RangeError(`overlap ${overlapS} s must be in [0, ${windowS})`);
  const out: AudioWindow[] = [];
  const hop = windowS - overlapS;
  for (let start = 0; ; start += hop) {
    const end = Math.min(duration, start + windowS);
    const last = end >= duration;
    out.push({ start, end, keepFrom: start === 0 ? 0 : start + overlapS / 2, keepTo: last ? Infinity : end - overlapS / 2 });
    if (last) break;
  }
  return out;
}
