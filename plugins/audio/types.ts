/**
 * Result shapes of the audio plugin. Times are seconds rounded to 3 decimals.
 * Fields are present only for the parts an `analysis_type` asks for (plus `duration`).
 */
import type { EnergyCurve } from "./dsp/energy.ts";
import type { Segment } from "./dsp/segments.ts";

export type AnalysisType = "full" | "beats" | "key" | "structure" | "tempo";
export const ANALYSIS_TYPES: readonly AnalysisType[] = ["full", "beats", "key", "structure", "tempo"];

export interface AudioAnalysis {
  analysis_type: AnalysisType;
  /** Length of the decoded audio, seconds. */
  duration: number;
  /**
   * Tempo in BPM (quarter-note / beat level), 60 / median inter-beat interval of the
   * tracked beats, 1 decimal. null when no beat was found: silence, clips under 2 s,
   * or no periodic pulse (noise, speech) — never a guessed value.
   */
  bpm?: number | null;
  /** 0..1: periodicity of the onset envelope times regularity of the tracked beats. */
  tempo_confidence?: number;
  /** Beat times, seconds. Empty when bpm is null. */
  beats?: number[];
  /** First beat of each bar, seconds (subset of beats). */
  downbeats?: number[];
  /** 0..1: how strongly onsets coincide with the tracked beats. */
  beat_confidence?: number;
  /** "4/4" or "3/4"; null without beats. */
  time_signature?: "4/4" | "3/4" | null;
  /** 0..1: how clearly bar-level accents pick the meter and downbeat phase. */
  downbeat_confidence?: number;
  /** "C major", "F# minor", …; null for silence or unpitched audio. */
  key?: string | null;
  key_confidence?: number;
  segments?: Segment[];
  /** Loudness curve for choosing cut intensity: values 0..1 every hop_s seconds. */
  energy?: EnergyCurve;
}

export interface AnalyzeOptions {
  analysisType?: AnalysisType;
  signal?: AbortSignal;
  /** Progress callback, pct 0..100 of the analysis stage. */
  onProgress?: (pct: number, message: string) => void;
}
