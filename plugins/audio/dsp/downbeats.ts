/**
 * Meter and downbeats from bar-level periodicity at the tracked beats. Each beat gets a
 * "bar-start" evidence score: harmonic change (chords tend to change on the downbeat)
 * plus kick-drum accent (bar-cues.ts). Meters 3 and 4 (2 and 4 dotted beats in compound
 * time) are scored by how much evidence concentrates on one beat position; a Viterbi pass
 * over bar positions then places the downbeats, tolerating a rare phase slip of the beat
 * tracker.
 *
 * Tried and not kept (issue 12): weights per bar position and cue (harmonic change, kick,
 * snare body, hats, onset) fitted on the dev and synthetic sets. Bar phase 91/93 in
 * cross-validation on the dev set (this rule: 81/93) and the one-drop placed right, but
 * held-out downbeat F fell 0.57 → 0.42: the fit weighted harmonic change 8:1 over the kick
 * because our dev songs change chord exactly on the bar line, which other authors' music
 * does not keep.
 */
import { phaseSplit } from "./phase-split.ts";
import { zscore } from "./bar-cues.ts";

export interface MeterEstimate {
  beatsPerBar: 2 | 3 | 4;
  /** 0..1: how clearly the chosen bar length beat the other candidate. */
  meterConfidence: number;
  /** Indices into the beat list that are downbeats. */
  downbeatIdx: number[];
  /** 0..1: how clearly the chosen meter/phase stands out. */
  confidence: number;
}

/** Mean of v per position i mod m. */
function fold(v: Float64Array, m: number): number[] {
  const sum = new Array<number>(m).fill(0);
  const cnt = new Array<number>(m).fill(0);
  for (let i = 0; i < v.length; i++) {
    sum[i % m] = (sum[i % m] as number) + (v[i] as number);
    cnt[i % m] = (cnt[i % m] as number) + 1;
  }
  return sum.map((x, i) => x / Math.max(1, cnt[i] as number));
}

/** How far above the song's mean (in SDs) the drop's rim shot must sit on average. */
const DROP_ACCENT = 0.8;

/**
 * A reggae one-drop (issue 12): the kick and the rim shot land together on beat 3 and
 * nothing marks beat 1, which is the emptiest beat of the bar. Read off a fold over 4
 * beats: the snare register has one accent per bar (well above its mean, and below its
 * mean two beats away: no backbeat on 2 and 4), the kick is strongest on that same beat
 * and weakest two beats away. In a backbeat groove the snare sits on two beats of four
 * and the kick takes turns with it (1 and 3 against 2 and 4), so neither holds.
 * The kick register also carries the bass, so only the order of its positions is read,
 * not its size. Returns the drop's position mod 4, or -1.
 */
export function oneDropPosition(kick: Float64Array, snare: Float64Array): number {
  if (kick.length < 16) return -1;
  const k = fold(kick, 4);
  const s = fold(snare, 4);
  const q = s.indexOf(Math.max(...s));
  const one = (q + 2) % 4;
  const isDrop = (s[q] as number) > DROP_ACCENT && (s[one] as number) < 0 && k[q] === Math.max(...k) && k[one] === Math.min(...k);
  return isDrop ? q : -1;
}

/**
 * Bar-start evidence per beat: harmonic change + kick, both z-scored (cues 0 and 1 of
 * bar-cues.ts). In a one-drop the kick marks beat 3, so the kick two beats later is the
 * evidence for a bar start (dev: the six one-drop renders went from downbeat F 0 to 1).
 * `downbeatActivation`: the beat network's downbeat activation at each beat
 * (beat-net/model.ts), z-scored and added.
 */
export function barStartEvidence(cues: Float64Array[], downbeatActivation?: Float64Array): Float64Array {
  const [harm, low, snare] = cues as [Float64Array, Float64Array, Float64Array | undefined];
  const shift = snare && oneDropPosition(low, snare) >= 0 ? 2 : 0;
  const net = downbeatActivation ? zscore(downbeatActivation) : null;
  const ev = new Float64Array(harm.length);
  for (let i = 0; i < ev.length; i++) ev[i] = (harm[i] as number) + (low[i + shift] ?? 0) + (net?.[i] ?? 0);
  return ev;
}

/** Contrast of the best phase for meter m: mean evidence on that phase minus the rest, in SDs. */
function phaseContrast(ev: Float64Array, m: number): { phase: number; contrast: number } {
  let best = { phase: 0, contrast: -Infinity };
  for (let p = 0; p < m; p++) {
    const { on, off } = phaseSplit(ev, m, p);
    const c = (on ?? 0) - (off ?? 0);
    if (c > best.contrast) best = { phase: p, contrast: c };
  }
  return best;
}

/** Score of every beat at every bar position, emit[i * m + s]: the evidence at position 0. */
export function positionScores(ev: Float64Array, m: number): Float64Array {
  const emit = new Float64Array(ev.length * m);
  for (let i = 0; i < ev.length; i++) emit[i * m] = ev[i] as number;
  return emit;
}

/**
 * Probability of a bar-phase slip per beat. Small, so a slip must be paid for by several
 * bars of evidence: at 0.01 single noisy beats moved the bar line and songs scored a
 * downbeat F of 0.6-0.8 with the right phase most of the time (real dev downbeat F 0.808
 * → 0.837 with this value, beat-phase check in place).
 */
const SLIP = 1e-8;

/**
 * Viterbi over bar positions 0..m-1: position advances by one per beat; with small
 * probability it jumps anywhere (a phase slip of the beat tracker).
 */
export function viterbiDownbeats(emit: Float64Array, m: number): number[] {
  const n = emit.length / m;
  if (n === 0) return [];
  const slip = Math.log(SLIP);
  const stay = Math.log(1 - SLIP);
  let prev = new Float64Array(m);
  const back = new Int8Array(n * m);
  for (let s = 0; s < m; s++) prev[s] = emit[s] as number;
  for (let i = 1; i < n; i++) {
    const cur = new Float64Array(m).fill(-Infinity);
    for (let s = 0; s < m; s++) {
      const from = (s + m - 1) % m;
      let best = (prev[from] as number) + stay;
      let arg = from;
      for (let q = 0; q < m; q++) {
        const v = (prev[q] as number) + slip;
        if (v > best) {
          best = v;
          arg = q;
        }
      }
      cur[s] = best + (emit[i * m + s] as number);
      back[i * m + s] = arg;
    }
    prev = cur;
  }
  let s = 0;
  for (let q = 1; q < m; q++) if ((prev[q] as number) > (prev[s] as number)) s = q;
  const pos = new Int8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    pos[i] = s;
    if (i > 0) s = back[i * m + s] as number;
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (pos[i] === 0) out.push(i);
  return out;
}

/**
 * 6/8 or 12/8 from the harmonic change alone: chords that change every 2 dotted beats
 * give a 2-beat phase contrast 1.5 times the 4-beat one (h against 2h/3); chords that
 * change every 4 beats give half of it (h/2 against h). The bar is 2 beats long when
 * the 2-beat contrast is the larger (dev: 6/8 songs 1.04-1.08, 12/8 songs 0.72-0.86).
 */
function compoundBar(harm: Float64Array): { bar: 2 | 4; confidence: number } {
  const c2 = phaseContrast(harm, 2).contrast;
  const c4 = phaseContrast(harm, 4).contrast;
  if (!(c4 > 0)) return { bar: 2, confidence: 0 };
  // Confidence: how far the ratio sits from 1 towards a pure case (1.5 or 0.5).
  const r = c2 / c4;
  return { bar: r > 1 ? 2 : 4, confidence: Math.min(1, Math.abs(r - 1) / 0.5) };
}

/**
 * Bars of 3 or 4 beats in simple time; in compound time (beats divided in three) bars of
 * 2 (6/8) or 4 (12/8) dotted-quarter beats (compoundBar). In simple time the common bar
 * (4) must be beaten clearly.
 * `cues`: barCues() of the tracked beats; `downbeatActivation`: see barStartEvidence.
 */
export function estimateMeter(cues: Float64Array[], compound = false, downbeatActivation?: Float64Array): MeterEstimate | null {
  const n = cues[0]?.length ?? 0;
  if (n < 6) return null;
  const ev = barStartEvidence(cues, downbeatActivation);
  const other = compound ? 2 : 3;
  const cO = phaseContrast(ev, other);
  const c4 = phaseContrast(ev, 4);
  // 4 beats per bar is the common case (4/4, 12/8): the other must win clearly. In
  // compound time the two bars (2 and 4 dotted beats) are nested, and the kick of a 12/8
  // falls on 1 and 3 as often as on 1: the period of harmonic change decides alone.
  const cb = compound ? compoundBar(cues[0] as Float64Array) : null;
  const beatsPerBar: 2 | 3 | 4 = cb ? cb.bar : cO.contrast > c4.contrast * 1.1 ? 3 : 4;
  const chosen = beatsPerBar === 4 ? c4 : cO;
  const loser = beatsPerBar === 4 ? cO : c4;
  const downbeatIdx = viterbiDownbeats(positionScores(ev, beatsPerBar), beatsPerBar);
  const confidence = Math.max(0, Math.min(1, chosen.contrast / 3));
  // Meter confidence: the winner's share of the two contrasts (0.5 = a coin toss).
  const a = Math.max(0, chosen.contrast);
  const b = Math.max(0, loser.contrast);
  const meterConfidence = cb ? cb.confidence : a + b > 0 ? Math.max(0, Math.min(1, (2 * a) / (a + b) - 1)) : 0;
  return { beatsPerBar, downbeatIdx, confidence, meterConfidence };
}
