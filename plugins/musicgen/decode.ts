/**
 * Codes -> 32 kHz samples through encodec_decode, in segments so a 5-minute piece does not
 * run EnCodec's decoder over 9.6 M samples at once (its last layers hold 64 channels per
 * sample). Segments overlap by a little and are joined with a linear crossfade: both sides
 * decode the same codes, so the overlap is the same signal (correlated), where equal-gain
 * (linear) keeps the level and equal-power would bump it by 3 dB mid-fade.
 */
import ort from "onnxruntime-node";
import { FarmError } from "../../core/errors.ts";
import type { MusicgenHandle } from "./model.ts";

export interface DecodeOptions {
  segmentFrames: number;
  overlapFrames: number;
  signal: AbortSignal;
}

async function decodeSegment(h: MusicgenHandle, codes: readonly Int32Array[], from: number, n: number): Promise<Float32Array> {
  const K = codes.length;
  const data = new BigInt64Array(K * n);
  for (let k = 0; k < K; k++) for (let t = 0; t < n; t++) data[k * n + t] = BigInt(codes[k]![from + t]!);
  const out = await h.encodec.run({ [h.encodec.inputNames[0] ?? "audio_codes"]: new ort.Tensor("int64", data, [1, 1, K, n]) });
  const audio = out.audio_values ?? out[h.encodec.outputNames[0]!];
  if (!audio) throw new FarmError("MODEL_ERROR", "encodec_decode.onnx returned no audio_values");
  return audio.data as Float32Array;
}

/** In place: the first `len` samples of `b` fade in over the last `len` samples of `out` (ending at `end`). */
export function linearCrossfade(out: Float32Array, end: number, b: Float32Array, len: number): void {
  for (let i = 0; i < len; i++) {
    const w = (i + 0.5) / len;
    const o = end - len + i;
    out[o] = out[o]! * (1 - w) + b[i]! * w;
  }
}

/** All `frames` frames as samples (frames * hop). */
export async function decodeCodes(h: MusicgenHandle, codes: readonly Int32Array[], frames: number, o: DecodeOptions): Promise<Float32Array> {
  if (frames <= o.segmentFrames) return decodeSegment(h, codes, 0, frames);
  const step = o.segmentFrames - o.overlapFrames;
  let out: Float32Array | null = null;
  let hop = 0;
  let end = 0;
  for (let from = 0; from < frames; from += step) {
    if (o.signal.aborted) throw new FarmError("JOB_CANCELLED", "music generation cancelled");
    const n = Math.min(o.segmentFrames, frames - from);
    const seg = await decodeSegment(h, codes, from, n);
    if (!out) {
      hop = seg.length / n;
      if (!Number.isInteger(hop)) throw new FarmError("MODEL_ERROR", `encodec_decode returned ${seg.length} samples for ${n} frames (not a whole hop)`);
      out = new Float32Array(frames * hop);
      out.set(seg);
      end = seg.length;
    } else {
      const overlap = (end / hop - from) * hop;
      linearCrossfade(out, end, seg, overlap);
      out.set(seg.subarray(overlap), end);
      end = from * hop + seg.length;
    }
    if (from + n >= frames) break;
  }
  return out!;
}
