/**
 * Result shapes of the audio plugin. Times are seconds rounded to 3 decimals.
 * Fields are present only for the parts an `analysis_type` asks for (plus `duration`).
 */
import type { EnergyCurve } from "./dsp/energy.ts";
import type { Segment } from "./dsp/segments.ts";

export type AnalysisType = "full" | "beats" | "key" | "structure" | "tempo";

export type TimeSignature = "4/4" | "3/4" | "6/8" | "12/8";

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
  /**
   * 0..1: how clearly the reported metrical level beats the other one (bpm_alternative),
   * times the periodicity of the onset envelope and the regularity of the tracked beats.
   */
  tempo_confidence?: number;
  /**
   * The second-best tempo: the other metrical level (usually half or double bpm, in
   * compound or triple time 2/3 or 3/2), so a client can offer "half / double". null
   * when bpm is null. Extra field, not in the API spec.
   */
  bpm_alternative?: number | null;
  /** Beat times, seconds. Empty when bpm is null. */
  beats?: number[];
  /** First beat of each bar, seconds (subset of beats). */
  downbeats?: number[];
  /** 0..1: how strongly onsets coincide with the tracked beats. */
  beat_confidence?: number;
  /**
   * "4/4", "3/4", or the compound meters "6/8" (2 dotted-quarter beats per bar) and
   * "12/8" (4 dotted-quarter beats, each heard as three); null without beats.
   */
  time_signature?: TimeSignature | null;
  /** 0..1: how clearly the meter beats the other candidates. Extra field, not in the API spec. */
  meter_confidence?: number;
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
