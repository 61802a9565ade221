/**
 * analyzePcm with the node's beat network, when it has one: the network runs on the
 * analyser's own features (onnxruntime answers asynchronously, analyzePcm is synchronous,
 * so the activation is computed first and handed in). The analysis worker and the library
 * entry point both go through here.
 */
import os from "node:os";
import { analyzePcm } from "../analyze.ts";
import { frameFeatures } from "../dsp/features.ts";
import { toFarmError } from "../../../core/errors.ts";
import type { BeatActivation } from "./model.ts";
import type { AnalysisType, AnalyzeOptions, AudioAnalysis } from "../types.ts";

/**
 * onnxruntime threads for the network: two where the machine has them (a 3-minute song:
 * 40 ms on one, 25 ms on two non-spinning threads on the 2-core VM; the pool does not spin,
 * model.ts, so idle threads leave the cores to the DSP).
 */
const NET_THREADS = Math.min(2, os.availableParallelism());

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
    // Imported here, not at the top: a node without a network never loads onnxruntime into
    // its analysis worker.
    const { beatNetFor } = await import("./model.ts");
    const net = await beatNetFor(beatModel, NET_THREADS);
    opts.onProgress?.(3, "beat network");
    activation = await net.activations(features);
  } catch (err) {
    warning = `${toFarmError(err).message}; beats tracked without it`;
  }
  const result = analyzePcm(samples, sr, { ...rest, features, activation });
  return warning ? { ...result, warnings: [warning] } : result;
}
