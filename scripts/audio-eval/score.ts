/**
 * Scores of one song and the totals of a set, in the measures the issue reports:
 * tempo Acc1 (4 %), beat F (±70 ms), downbeat F, meter, MIREX key. Keys and meters
 * that a set does not label (null) are left out of those totals, not counted as hits.
 */
import { beatF, keyScore, tempoAcc1, tempoAcc2 } from "../../plugins/audio/eval/metrics.ts";

export interface Truthish {
  bpm: number;
  beats: number[];
  downbeats: number[];
  time_signature: string | null;
  key: string | null;
}

export interface Estimate {
  bpm: number | null | undefined;
  beats: number[];
  downbeats?: number[];
  time_signature?: string | null;
  key?: string | null;
}

export interface SongScore {
  acc1: boolean;
  acc2: boolean;
  beat: number;
  down: number | null;
  meter: boolean | null;
  key: number | null;
}

export function scoreSong(t: Truthish, e: Estimate): SongScore {
  return {
    acc1: tempoAcc1(t.bpm, e.bpm),
    acc2: tempoAcc2(t.bpm, e.bpm),
    beat: beatF(t.beats, e.beats),
    down: e.downbeats ? beatF(t.downbeats, e.downbeats) : null,
    meter: e.time_signature === undefined || t.time_signature === null ? null : e.time_signature === t.time_signature,
    key: e.key === undefined || t.key === null ? null : keyScore(t.key, e.key),
  };
}

export interface SetTotals {
  n: number;
  acc1: number;
  acc2: number;
  beat: number;
  down: number | null;
  meter: number | null;
  key: number | null;
}

const meanOf = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

export function totals(scores: SongScore[]): SetTotals {
  return {
    n: scores.length,
    acc1: meanOf(scores.map((s) => +s.acc1)) ?? 0,
    acc2: meanOf(scores.map((s) => +s.acc2)) ?? 0,
    beat: meanOf(scores.map((s) => s.beat)) ?? 0,
    down: meanOf(scores.map((s) => s.down)),
    meter: meanOf(scores.map((s) => (s.meter === null ? null : +s.meter))),
    key: meanOf(scores.map((s) => s.key)),
  };
}

export const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)} %`);
export const f3 = (x: number | null) => (x === null ? "-" : x.toFixed(3));
export const tempoMark = (s: SongScore) => (s.acc1 ? "✓" : s.acc2 ? "oct" : "✗");
