/**
 * MusicGen's codebook delay pattern and the window plan for long durations.
 *
 * The decoder predicts all K codebooks at once, codebook k delayed by k steps: decoder
 * position j (position 0 is the start token) holds frame j-1-k of codebook k, and pad where
 * that frame does not exist (j-1-k < 0, or past the window's last frame). So N frames need
 * positions 1 .. N+K-1. Codes are stored undelayed (codes[k][frame]) as they are decided,
 * which is the same as transformers' _apply_and_filter_by_delay_pattern_mask afterwards.
 *
 * Continuation: a window after the first starts from the last `context` frames of the audio
 * so far, as decoder input (audio-code prompting, what audiocraft's extended generation
 * does). Positions whose frame is a context frame are forced to the known code; the first
 * P+1 positions (all forced) go through the decoder in one prefill call.
 */

export interface WindowPlan {
  /** First new frame (global index). */
  start: number;
  /** Context frames before `start` fed as the decoder prompt. */
  context: number;
  /** New frames generated in this window. */
  frames: number;
}

/** Windows covering `total` frames: each at most `window` positions' worth, later ones prompted by `context` frames. */
export function planWindows(total: number, window: number, context: number): WindowPlan[] {
  if (!(window > 0) || context >= window) throw new RangeError(`window (${window}) must be > context (${context}) > = 0`);
  const plan: WindowPlan[] = [];
  let done = 0;
  while (done < total) {
    const ctx = plan.length === 0 ? 0 : Math.min(context, done);
    const frames = Math.min(total - done, window - ctx);
    plan.push({ start: done, context: ctx, frames });
    done += frames;
  }
  return plan;
}

/** Decoder calls a window takes: one per decided position after the prefill. */
export const windowSteps = (w: WindowPlan, numCodebooks: number) => w.frames + numCodebooks - 1;

/**
 * The token at decoder position `j` (1-based) of codebook `k` when it is not sampled:
 * pad outside the window's frames, the known code for context frames; -1 = sample it.
 */
export function forcedToken(j: number, k: number, w: WindowPlan, codes: readonly Int32Array[], pad: number): number {
  const f = j - 1 - k;
  if (f < 0 || f >= w.context + w.frames) return pad;
  if (f < w.context) return codes[k]![w.start - w.context + f]!;
  return -1;
}
