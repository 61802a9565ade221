/**
 * Result shapes of the audio plugin. Times are seconds rounded to 3 decimals.
 * Fields are present only for the parts an `analysis_type` asks for (plus `duration`).
 */
import type { EnergyCurve } from "./dsp/energy.ts";
import type { Segment } from "./dsp/segments.ts";
import type { FrameFeatures } from "./dsp/features.ts";
import type { BeatActivation } from "./beat-net/model.ts";

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
  /**
   * What tracked the beats: "network" (the operator-supplied beat network, beat-net/model.ts)
   * or "dsp" (the onset envelope alone). Extra field, not in the API spec.
   */
  beat_tracker?: "network" | "dsp";
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
  /** What the analysis could not do as asked (a truncated file, a beat network that failed to load). */
  warnings?: string[];
}

export interface AnalyzeOptions {
  analysisType?: AnalysisType;
  /** The frame features of these samples, when the caller already computed them (for the beat network). */
  features?: FrameFeatures;
  /** The beat network's activations over those features' frames (beat-net/model.ts). */
  activation?: BeatActivation;
  signal?: AbortSignal;
  /** Progress callback, pct 0..100 of the analysis stage. */
  onProgress?: (pct: number, message: string) => void;
}
