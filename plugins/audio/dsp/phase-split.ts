/**
 * Mean of a per-beat (or per-pulse) series on one phase of a period versus the other
 * phases: the measure behind meter detection and downbeat phase (downbeats.ts). A mean
 * is null when no sample falls there.
 */
export function phaseSplit(x: Float64Array, period: number, phase: number, from = 0): { on: number | null; off: number | null } {
  let on = 0;
  let nOn = 0;
  let off = 0;
  let nOff = 0;
  for (let i = from; i < x.length; i++) {
    if (i % period === phase) {
      on += x[i] as number;
      nOn++;
    } else {
      off += x[i] as number;
      nOff++;
    }
  }
  return { on: nOn ? on / nOn : null, off: nOff ? off / nOff : null };
}
