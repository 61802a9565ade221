/**
 * Beat sync: which markers cuts may land on, and snapping a cut to the best of them.
 * Rule (documented in the README): walking the clips in order, each cut (the start of the
 * next clip) moves to the chosen marker nearest its nominal time among those at least
 * `min_shot_s` (and at least the incoming transition) after the current clip's start.
 * When no marker is left, the remaining clips keep their own durations. The last clip's
 * end is not snapped: the video ends when the last clip does.
 */
import type { BeatSyncParams } from "./params-assemble.ts";

/** The markers cuts may use, sorted, de-duplicated, > 0. */
export function chosenMarkers(bs: BeatSyncParams): number[] {
  const base = bs.mode === "downbeats" ? bs.downbeats : bs.beat_markers;
  const sorted = [...new Set(base.filter((m) => m > 0))].sort((a, b) => a - b);
  return bs.mode === "every_n" ? sorted.filter((_, i) => i % bs.n === 0) : sorted;
}

/**
 * The frame a cut snaps to, or null when no marker qualifies.
 * @param markersF chosen markers, in frames, ascending
 * @param earliest first allowed frame (clip start + max(min shot, incoming transition))
 * @param nominal frame where the cut would fall without beat sync
 */
export function snapCut(markersF: number[], earliest: number, nominal: number): number | null {
  let best: number | null = null;
  for (const m of markersF) {
    if (m < earliest) continue;
    if (best === null || Math.abs(m - nominal) < Math.abs(best - nominal)) best = m;
    else if (m > nominal) break; // ascending: once past the nominal cut and worse, none is better
  }
  return best;
}
