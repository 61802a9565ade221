/**
 * Dynamic-programming beat tracking (Ellis 2007, "Beat Tracking by Dynamic
 * Programming"), extended with a per-frame target period so it follows tempo changes.
 * The objective rewards beats on strong onsets and penalises inter-beat intervals that
 * stray from the local period: C(t) = O(t) + max_p [C(p) - α·log²((t-p)/τ(t))].
 */

export interface BeatTrackOptions {
  /** α: how strongly intervals are held to the local period. Default 100 (Ellis / librosa). */
  tightness?: number;
}

/**
 * Returns beat positions in (integer) frames, ascending. `onset` should be the
 * local-mean-removed onset envelope; `period` the local beat period per frame.
 */
export function trackBeats(onset: Float32Array, period: Float32Array, opts: BeatTrackOptions = {}): number[] {
  const n = onset.length;
  if (n === 0) return [];
  const alpha = opts.tightness ?? 100;
  // Normalise the local score so α means the same at every loudness.
  let sd = 0;
  for (let i = 0; i < n; i++) sd += (onset[i] as number) * (onset[i] as number);
  sd = Math.sqrt(sd / n);
  if (!(sd > 1e-9)) return [];
  const score = smoothForBeats(onset, period[0] as number, sd);
  const cum = new Float64Array(n);
  const back = new Int32Array(n).fill(-1);
  // log of every possible interval, once: log((t-p)/τ) = logInt[t-p] - log τ.
  let maxTau = 0;
  for (let i = 0; i < n; i++) maxTau = Math.max(maxTau, period[i] as number);
  const logInt = new Float64Array(Math.ceil(2 * maxTau) + 2);
  for (let i = 1; i < logInt.length; i++) logInt[i] = Math.log(i);
  for (let t = 0; t < n; t++) {
    const tau = period[t] as number;
    const logTau = Math.log(tau);
    const lo = Math.max(0, Math.floor(t - 2 * tau));
    const hi = Math.min(t - 1, Math.ceil(t - tau / 2));
    let best = -Infinity;
    let arg = -1;
    for (let p = lo; p <= hi; p++) {
      const lr = (logInt[t - p] as number) - logTau;
      const v = (cum[p] as number) - alpha * lr * lr;
      if (v > best) {
        best = v;
        arg = p;
      }
    }
    // A beat may also start a new chain (no predecessor) when that scores better:
    // this is what lets the first beat land anywhere.
    if (arg >= 0 && best > 0) {
      cum[t] = (score[t] as number) + best;
      back[t] = arg;
    } else {
      cum[t] = score[t] as number;
    }
  }
  // The last beat: the best cumulative score within the final period (Ellis picks the
  // global end; restricting to the last period avoids truncating the track).
  const tail = Math.max(0, Math.floor(n - 1 - (period[n - 1] as number)));
  let end = tail;
  for (let t = tail; t < n; t++) if ((cum[t] as number) > (cum[end] as number)) end = t;
  const beats: number[] = [];
  for (let t = end; t >= 0; t = back[t] as number) {
    beats.push(t);
    if ((back[t] as number) < 0) break;
  }
  return beats.reverse();
}

/** Normalise by `sd` and smooth with a Gaussian of width period/32 (as in Ellis 2007). */
function smoothForBeats(onset: Float32Array, period: number, sd: number): Float32Array {
  const n = onset.length;
  const sigma = Math.max(0.5, period / 32);
  const h = Math.ceil(3 * sigma);
  const k = new Float32Array(2 * h + 1);
  let ks = 0;
  for (let i = -h; i <= h; i++) {
    const w = Math.exp(-0.5 * (i / sigma) * (i / sigma));
    k[i + h] = w;
    ks += w;
  }
  const out = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    let s = 0;
    for (let i = -h; i <= h; i++) {
      const j = t + i;
      if (j >= 0 && j < n) s += (onset[j] as number) * (k[i + h] as number);
    }
    out[t] = s / ks / sd;
  }
  return out;
}

/**
 * Drop beats at the head and tail of the track where the audio is silent (the DP
 * would otherwise keep ticking through silence). `active(frame)` says whether there is
 * sound around the frame.
 */
export function trimSilentBeats(beats: number[], active: (frame: number) => boolean): number[] {
  let a = 0;
  let b = beats.length;
  while (a < b && !active(beats[a] as number)) a++;
  while (b > a && !active(beats[b - 1] as number)) b--;
  return beats.slice(a, b);
}

/**
 * The metrical level is chosen within 40-`maxBpm` BPM (tempo-level.ts), but the tracker follows
 * a local period curve and can slip to the level below it (country at 159 came out at 323 BPM
 * in the dev set's tempo sweep). Beats whose median interval is faster than `maxBpm` are
 * thinned to every other one, keeping the phase whose beats sit on stronger onsets, so the
 * reported tempo stays in the range the level search allows.
 */
export function thinToMaxBpm(beats: number[], frameRate: number, onset: Float32Array, maxBpm: number): number[] {
  let out = beats;
  while (out.length >= 6) {
    const ibis = out
      .slice(1)
      .map((b, i) => b - (out[i] as number))
      .sort((a, b) => a - b);
    const med = ibis[Math.floor(ibis.length / 2)] as number;
    if ((60 * frameRate) / med <= maxBpm) break;
    let even = 0;
    let odd = 0;
    for (let i = 0; i < out.length; i++) {
      const v = onset[out[i] as number] ?? 0;
      if (i % 2 === 0) even += v;
      else odd += v;
    }
    const start = odd > even ? 1 : 0;
    out = out.filter((_, i) => i % 2 === start);
  }
  return out;
}
