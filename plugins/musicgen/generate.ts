/**
 * The token loop: text encoder once, then per window a prefill call and one decoder call
 * per position, with the merged decoder's key/value cache carried between calls,
 * classifier-free guidance as a second batch row, seeded sampling, the delay pattern, a
 * cancel check before every step and progress in tokens (n of N over all windows).
 */
import ort from "onnxruntime-node";
import { FarmError } from "../../core/errors.ts";
import { forcedToken, planWindows, windowSteps, type WindowPlan } from "./delay-pattern.ts";
import type { MusicgenHandle, Session } from "./model.ts";
import { CodeSampler, seededRng, type SamplingParams } from "./sampler.ts";

export interface GenerateCodesOptions {
  /** Frames (code steps) to generate in all. */
  frames: number;
  /** Frames per window, context included. */
  windowFrames: number;
  /** Context frames prompting each later window. */
  contextFrames: number;
  sampling: SamplingParams;
  seed: number;
  signal: AbortSignal;
  /** Called after each decoder step: tokens done / total. */
  onStep?: (done: number, total: number) => void;
}

export interface GeneratedCodes {
  /** codes[k][frame], K arrays of `frames` codes. */
  codes: Int32Array[];
  windows: WindowPlan[];
  steps: number;
}

type Feeds = Record<string, ort.Tensor>;

const cancelled = () => new FarmError("JOB_CANCELLED", "music generation cancelled");

/** Encoder states for the conditional row, plus an all-zero unconditional row when guidance is on (as transformers does). */
async function encodeText(h: MusicgenHandle, prompt: string, guided: boolean): Promise<{ states: ort.Tensor; mask: ort.Tensor }> {
  const { ids, mask } = h.tokenize(prompt);
  const L = ids.length;
  const out = await h.text.run({
    [h.text.inputNames[0] ?? "input_ids"]: new ort.Tensor("int64", ids, [1, L]),
    ...(h.text.inputNames.includes("attention_mask") ? { attention_mask: new ort.Tensor("int64", mask, [1, L]) } : {}),
  });
  const hs = out.last_hidden_state ?? out[h.text.outputNames[0]!];
  if (!hs) throw new FarmError("MODEL_ERROR", "text_encoder.onnx returned no last_hidden_state");
  const D = hs.dims[2]!;
  const data = hs.data as Float32Array;
  if (!guided) return { states: new ort.Tensor("float32", Float32Array.from(data), [1, L, D]), mask: new ort.Tensor("int64", mask, [1, L]) };
  const states = new Float32Array(2 * L * D);
  states.set(data);
  const m2 = new BigInt64Array(2 * L);
  m2.set(mask);
  return { states: new ort.Tensor("float32", states, [2, L, D]), mask: new ort.Tensor("int64", m2, [2, L]) };
}

/** Empty cache tensors for the first call, shaped from the session's own input metadata. */
function emptyCache(decoder: Session, batch: number): Feeds {
  const feeds: Feeds = {};
  for (const meta of decoder.inputMetadata) {
    if (!meta.name.startsWith("past_key_values.") || !meta.isTensor) continue;
    // Symbolic dims: the batch ones take the encoder batch, the sequence ones are empty.
    const dims = meta.shape.map((d) => (typeof d === "number" && d >= 0 ? d : typeof d === "string" && /batch/.test(d) ? batch : 0));
    feeds[meta.name] = new ort.Tensor("float32", new Float32Array(0), dims);
  }
  return feeds;
}

export async function generateCodes(h: MusicgenHandle, prompt: string, o: GenerateCodesOptions): Promise<GeneratedCodes> {
  const { numCodebooks: K, vocabSize: V, padTokenId: pad, startTokenId: start } = h.config;
  const guided = o.sampling.guidanceScale > 1;
  const batch = guided ? 2 : 1;
  const R = batch * K;
  const windows = planWindows(o.frames, o.windowFrames, o.contextFrames);
  const total = windows.reduce((s, w) => s + windowSteps(w, K), 0);
  const codes = Array.from({ length: K }, () => new Int32Array(o.frames));
  const sampler = new CodeSampler(await seededRng(o.seed), V, o.sampling);
  const dec = h.decoder;
  const hasUseCache = dec.inputNames.includes("use_cache_branch");
  const hasEncMask = dec.inputNames.includes("encoder_attention_mask");

  if (o.signal.aborted) throw cancelled();
  const text = await encodeText(h, prompt, guided);
  let done = 0;
  for (const w of windows) {
    const P = w.context;
    // Prefill: positions 0..P, all known (start token, then context codes in delayed layout).
    const S0 = P + 1;
    const first = new BigInt64Array(R * S0);
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k < K; k++) {
        const row = (b * K + k) * S0;
        first[row] = BigInt(start);
        for (let j = 1; j <= P; j++) first[row + j] = BigInt(forcedToken(j, k, w, codes, pad));
      }
    }
    let input = new ort.Tensor("int64", first, [R, S0]);
    let cache: Feeds = emptyCache(dec, batch);
    let encoderCache: Feeds | null = null;
    const lastPos = P + w.frames + K - 1;
    for (let j = P + 1; j <= lastPos; j++) {
      if (o.signal.aborted) throw cancelled();
      const feeds: Feeds = { input_ids: input, encoder_hidden_states: text.states, ...cache };
      if (hasEncMask) feeds.encoder_attention_mask = text.mask;
      if (hasUseCache) feeds.use_cache_branch = new ort.Tensor("bool", [encoderCache !== null], [1]);
      if (encoderCache) Object.assign(feeds, encoderCache);
      const out = await dec.run(feeds);
      const logits = out.logits;
      if (!logits) throw new FarmError("MODEL_ERROR", "decoder_model_merged.onnx returned no logits");
      const S = logits.dims[1]!;
      const LV = logits.dims[2]!;
      if (LV !== V) throw new FarmError("MODEL_ERROR", `decoder logits have ${LV} codes per row, config says vocab_size ${V}`);
      const ld = logits.data as Float32Array;
      // The next cache: decoder self-attention grows; the cross-attention entries are
      // computed once (the merged graph's cached branch passes them through, per Optimum).
      const next: Feeds = {};
      const enc: Feeds = {};
      for (const [name, t] of Object.entries(out)) {
        if (!name.startsWith("present.")) continue;
        const pastName = name.replace("present", "past_key_values");
        if (name.includes(".encoder.")) enc[pastName] = t;
        else next[pastName] = t;
      }
      if (!encoderCache) encoderCache = enc;
      cache = next;
      const tokens = new BigInt64Array(R);
      for (let k = 0; k < K; k++) {
        let tok = forcedToken(j, k, w, codes, pad);
        if (tok < 0) {
          const cond = (k * S + (S - 1)) * V;
          const uncond = guided ? ((K + k) * S + (S - 1)) * V : null;
          tok = sampler.sample(ld, cond, uncond);
          codes[k]![w.start + (j - 1 - k - P)] = tok;
        }
        for (let b = 0; b < batch; b++) tokens[b * K + k] = BigInt(tok);
      }
      input = new ort.Tensor("int64", tokens, [R, 1]);
      done++;
      o.onStep?.(done, total);
    }
  }
  return { codes, windows, steps: done };
}
