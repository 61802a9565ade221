/**
 * Library entry points for other plugins (video beat sync) and tests:
 * decode a local file with ffmpeg and analyse it, without the job machinery.
 */
import { decodeAudio, DEFAULT_SR, type DecodeOptions } from "./decode.ts";
import { analyzeWithBeatNet } from "./beat-net/analyze.ts";
import type { AnalyzeOptions, AudioAnalysis } from "./types.ts";

export interface AnalyzeFileOptions extends Pick<AnalyzeOptions, "analysisType" | "onProgress">, Omit<DecodeOptions, "signal"> {
  /** A beat network file (beat-net/model.ts) to track beats with; a file that fails to load leaves a warning. */
  beatModel?: string;
}

/**
 * Decode `file` (anything ffmpeg reads) and analyse it.
 * Rejects FarmError VALIDATION_ERROR (field audio_path) when the file is not decodable audio.
 */
export async function analyzeAudioFile(file: string, opts: AnalyzeFileOptions = {}, signal?: AbortSignal): Promise<AudioAnalysis> {
  const sr = opts.sampleRate ?? DEFAULT_SR;
  const pcm = await decodeAudio(file, { ...opts, sampleRate: sr, signal });
  return analyzeWithBeatNet(pcm, sr, { analysisType: opts.analysisType, onProgress: opts.onProgress, signal, beatModel: opts.beatModel });
}

export { analyzePcm } from "./analyze.ts";
export { decodeAudio, DEFAULT_SR } from "./decode.ts";
export type { AnalysisType, AudioAnalysis, AnalyzeOptions } from "./types.ts";
export type { Segment, SegmentType } from "./dsp/segments.ts";
export type { EnergyCurve } from "./dsp/energy.ts";
