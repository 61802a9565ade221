/**
 * analyzePcm with the node's beat network, when it has one: the network runs on the
 * analyser's own features (onnxruntime answers asynchronously, analyzePcm is synchronous,
 * so the activation is computed first and handed in). The analysis worker and the library
 * entry point both go through here.
 */
import { analyzePcm } from "../analyze.ts";
import { frameFeatures } from "../dsp/features.ts";
import { toFarmError } from "../../../core/errors.ts";
import { beatNetFor, type BeatActivation } from "./model.ts";
import type { AnalysisType, AnalyzeOptions, AudioAnalysis } from "../types.ts";

/** Analysis types that track beats (the key alone never reads the activation). */
const RHYTHM: readonly (AnalysisType | undefined)[] = [undefined, "full", "beats", "tempo", "structure"];

export async function analyzeWithBeatNet(samples: Float32Array, sr: number, opts: AnalyzeOptions & { beatModel?: string }): Promise<AudioAnalysis> {
  const { beatModel, ...rest } = opts;
  if (!beatModel || !RHYTHM.includes(opts.analysisType)) return analyzePcm(samples, sr, rest);
  // A network that cannot load or run is the operator's problem, not the user's: the
  // analysis still answers, from the DSP tracker, and says why in `warnings`.
  let activation: BeatActivation | undefined;
  let warning: string | undefined;
  const features = frameFeatures(samples, sr, {}, opts.signal);
  try {
    const net = await beatNetFor(beatModel, 1);
    opts.onProgress?.(3, "beat network");
    activation = await net.activations(features);
  } catch (err) {
    warning = `${toFarmError(err).message}; beats tracked without it`;
  }
  const result = analyzePcm(samples, sr, { ...rest, features, activation });
  return warning ? { ...result, warnings: [warning] } : result;
}
