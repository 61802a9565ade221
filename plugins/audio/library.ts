/**
 * Library entry points for other plugins (video beat sync) and tests:
 * decode a local file with ffmpeg and analyse it, without the job machinery.
 */
import { decodeAudio, DEFAULT_SR, type DecodeOptions } from "./decode.ts";
import { analyzePcm } from "./analyze.ts";
import type { AnalyzeOptions, AudioAnalysis } from "./types.ts";

export interface AnalyzeFileOptions extends Omit<AnalyzeOptions, "signal">, Omit<DecodeOptions, "signal"> {}

/**
 * Decode `file` (anything ffmpeg reads) and analyse it.
 * Rejects FarmError VALIDATION_ERROR (field audio_path) when the file is not decodable audio.
 */
export async function analyzeAudioFile(file: string, opts: AnalyzeFileOptions = {}, signal?: AbortSignal): Promise<AudioAnalysis> {
  const sr = opts.sampleRate ?? DEFAULT_SR;
  const pcm = await decodeAudio(file, { ...opts, sampleRate: sr, signal });
  return analyzePcm(pcm, sr, { analysisType: opts.analysisType, onProgress: opts.onProgress, signal });
}

export { analyzePcm } from "./analyze.ts";
export { decodeAudio, DEFAULT_SR } from "./decode.ts";
export type { AnalysisType, AudioAnalysis, AnalyzeOptions } from "./types.ts";
export type { Segment, SegmentType } from "./dsp/segments.ts";
export type { EnergyCurve } from "./dsp/energy.ts";
