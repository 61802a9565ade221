/**
 * MusicGen plugin: job type music.generate (POST /api/v1/musicgen/generate).
 *
 * prompt -> T5 text encoder -> MusicGen decoder token loop (4 codebooks, delay pattern,
 * classifier-free guidance, seeded sampling) -> EnCodec decoder -> 32 kHz mono -> mp3 + wav
 * under outputs/music/. Durations longer than one window (~30 s) continue from the tail of
 * the previous window's audio codes (see delay-pattern.ts). Shapes and config in README.md.
 *
 * Config (plugins.musicgen): window_s (30), context_s (10), decode_segment_s (30),
 * decode_overlap_s (1), mp3_kbps (192), onnx_threads.
 */
import { FarmError } from "../../core/errors.ts";
import { definePlugin, type ModelSpec, type PluginInitContext, type Task, type TaskContext } from "../../core/plugin-contract.ts";
import { decodeCodes } from "./decode.ts";
import { encodeOutputs } from "./encode.ts";
import { generateCodes } from "./generate.ts";
import { DEFAULT_MUSIC_MODEL, manifest, MUSIC_MODEL_IDS } from "./manifest.ts";
import { loadMusicgen, type MusicgenHandle } from "./model.ts";
import { parseMusicParams } from "./params.ts";

export interface MusicgenSettings {
  windowS: number;
  contextS: number;
  decodeSegmentS: number;
  decodeOverlapS: number;
  mp3Kbps: number;
  threads?: number;
}

function setting(config: Record<string, unknown>, key: string, dflt: number, ok: (v: number) => boolean): number {
  const v = config[key];
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) {
    throw new FarmError("VALIDATION_ERROR", `plugins.musicgen.${key} is invalid (${String(v)})`, {
      field: `plugins.musicgen.${key}`,
      constraint: "positive number",
    });
  }
  return v;
}

export function musicgenSettings(config: Record<string, unknown>): MusicgenSettings {
  const windowS = setting(config, "window_s", 30, (v) => v > 0 && v <= 60);
  const contextS = setting(config, "context_s", 10, (v) => v >= 0 && v < windowS);
  const decodeSegmentS = setting(config, "decode_segment_s", 30, (v) => v >= 0.2 && v <= 120);
  const threads = config.onnx_threads;
  return {
    windowS,
    contextS,
    decodeSegmentS,
    // Under half a segment, so each segment adds new audio beyond the previous overlap.
    decodeOverlapS: setting(config, "decode_overlap_s", 1, (v) => v >= 0 && v < decodeSegmentS / 2),
    mp3Kbps: setting(config, "mp3_kbps", 192, (v) => Number.isInteger(v) && v >= 32 && v <= 320),
    ...(typeof threads === "number" && threads > 0 ? { threads } : {}),
  };
}

const isHandle = (h: unknown, id: string): h is MusicgenHandle =>
  typeof h === "object" &&
  h !== null &&
  (h as MusicgenHandle).id === id &&
  typeof (h as MusicgenHandle).dispose === "function" &&
  !(h as MusicgenHandle).disposed;

export async function runMusicGenerate(task: Task, ctx: TaskContext, h: MusicgenHandle): Promise<Record<string, unknown>> {
  const cfg = h.config;
  const s = musicgenSettings(ctx.config);
  const p = parseMusicParams(task.params, { guidanceScale: cfg.guidanceScale, topK: cfg.topK });
  const K = cfg.numCodebooks;
  const frames = Math.ceil(p.duration * cfg.frameRate);
  // A window may not outgrow the generation config's max_length (positions incl. the delay).
  const windowFrames = Math.max(2, Math.min(Math.round(s.windowS * cfg.frameRate), cfg.maxLength - K));
  const contextFrames = Math.min(Math.round(s.contextS * cfg.frameRate), windowFrames - 1);
  let lastPct = -1;
  const gen = await generateCodes(h, p.prompt, {
    frames,
    windowFrames,
    contextFrames,
    seed: p.seed,
    signal: ctx.signal,
    sampling: { temperature: p.temperature, topK: p.topK, topP: p.topP, guidanceScale: p.guidanceScale },
    onStep: (done, total) => {
      const pct = Math.floor((90 * done) / total);
      if (pct !== lastPct || done === total) {
        lastPct = pct;
        ctx.progress(pct, `Generating tokens ${done}/${total}`);
      }
    },
  });
  ctx.progress(90, "Decoding audio");
  const audio = await decodeCodes(h, gen.codes, frames, {
    segmentFrames: Math.max(2, Math.round(s.decodeSegmentS * cfg.frameRate)),
    overlapFrames: Math.round(s.decodeOverlapS * cfg.frameRate),
    signal: ctx.signal,
  });
  const n = Math.min(audio.length, Math.round(p.duration * cfg.sampleRate));
  ctx.progress(95, "Encoding mp3 and wav");
  const out = await encodeOutputs(ctx, task.job_id, audio.subarray(0, n), cfg.sampleRate, s.mp3Kbps);
  ctx.progress(100, "Done");
  return {
    audio_url: out.audio_url,
    wav_url: out.wav_url,
    duration: n / cfg.sampleRate,
    model: h.id,
    seed: p.seed,
    sample_rate: cfg.sampleRate,
    prompt: p.prompt,
    tokens: gen.steps,
    windows: gen.windows.length,
    device: h.device,
  };
}

const plugin = definePlugin({
  manifest,

  async load(model: ModelSpec, ctx: PluginInitContext) {
    const s = musicgenSettings(ctx.config);
    return loadMusicgen(model.id, { modelsDir: ctx.modelsDir, gpuIndex: ctx.gpu_index ?? null, threads: s.threads, logger: ctx.logger });
  },

  async unload(_model: ModelSpec, handle: unknown) {
    // Sessions hold the weights (and CUDA memory): release them when the agent evicts the model.
    if (typeof handle === "object" && handle !== null && typeof (handle as MusicgenHandle).dispose === "function") await (handle as MusicgenHandle).dispose();
  },

  async run(task, ctx) {
    if (task.type !== "music.generate") {
      throw new FarmError("VALIDATION_ERROR", `musicgen plugin does not run '${task.type}'`, { field: "type", constraint: "music.generate" });
    }
    const model = task.model ?? (typeof task.params.model === "string" ? task.params.model : DEFAULT_MUSIC_MODEL);
    if (!MUSIC_MODEL_IDS.includes(model)) {
      throw new FarmError("VALIDATION_ERROR", `unknown MusicGen model '${model}'`, { field: "model", constraint: MUSIC_MODEL_IDS.join(", ") });
    }
    if (isHandle(ctx.model, model)) return runMusicGenerate(task, ctx, ctx.model);
    // Called without the agent's model manager (tools, tests): load for this task only.
    const h = await loadMusicgen(model, {
      modelsDir: ctx.modelsDir,
      gpuIndex: task.gpu_index ?? null,
      threads: musicgenSettings(ctx.config).threads,
      logger: ctx.logger,
    });
    try {
      return await runMusicGenerate(task, ctx, h);
    } finally {
      await h.dispose();
    }
  },
});

export default plugin;
