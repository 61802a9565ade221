/**
 * Audio intelligence plugin (CPU): tempo, beats, downbeats, meter, key, sections and an
 * energy curve for beat-synced editing. Decoding is ffmpeg (streamed to PCM); all
 * analysis is TypeScript (permissive code only: no essentia.js / aubio).
 *
 * Job types
 * - "audio.analyze": params {audio_path: artifact key, analysis_type?: "full"|"beats"|
 *   "key"|"structure"|"tempo" (default "full")} → AudioAnalysis (see types.ts).
 * - "audio.detect_beats": params {audio_path} → {bpm, bpm_alternative, beats, downbeats,
 *   tempo_confidence, beat_confidence, time_signature, meter_confidence,
 *   downbeat_confidence, duration} (the "beats" analysis, no key/sections).
 *
 * A file that decodes to less than it declares (truncated, lying WAV header) is still
 * analysed, and the result carries `warnings` saying how much was decoded (completeness.ts).
 *
 * Config (`plugins.audio`): sample_rate (default 22050), max_duration_s (default 1800),
 * beat_model (the beat network's file; default <modelsDir>/beat-net/beat-tcn.onnx, used
 * when it exists; `false` turns it off). Without the file the DSP tracker works alone.
 */
import fs from "node:fs";
import path from "node:path";
import { definePlugin, type Plugin, type TaskContext } from "../../core/plugin-contract.ts";
import { FarmError } from "../../core/errors.ts";
import { decodeAudio, DEFAULT_SR } from "./decode.ts";
import { completenessWarnings } from "./completeness.ts";
import { analyzePcmOffThread } from "./off-thread.ts";
import { parseParams } from "./params.ts";
import { AUDIO_ANALYZE, AUDIO_DETECT_BEATS } from "./job-types.ts";
import { BEAT_NET_FILE, BEAT_NET_MODEL } from "./beat-net/model.ts";
import type { AnalysisType } from "./types.ts";

export const JOB_ANALYZE = AUDIO_ANALYZE.type;
export const JOB_DETECT_BEATS = AUDIO_DETECT_BEATS.type;

function numberConfig(cfg: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const v = cfg[name];
  return typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? v : def;
}

/**
 * The beat network's file for this node: `beat_model` (a path, or false for none), else the
 * default place under the models folder when a file is there. An absent default is the
 * normal case (the DSP tracker runs); a configured path is passed on even when missing, so
 * the result's warning names it.
 */
export function beatModelPath(config: Record<string, unknown>, modelsDir: string): string | undefined {
  const v = config.beat_model;
  if (v === false) return undefined;
  if (typeof v === "string" && v.trim() !== "") return path.resolve(modelsDir, v);
  const file = path.join(modelsDir, BEAT_NET_FILE);
  return fs.existsSync(file) ? file : undefined;
}

async function runAnalysis(params: Record<string, unknown>, ctx: TaskContext, defaultType: AnalysisType): Promise<Record<string, unknown>> {
  const p = parseParams(params, defaultType);
  const sr = numberConfig(ctx.config, "sample_rate", DEFAULT_SR, 8000, 48000);
  const maxSeconds = numberConfig(ctx.config, "max_duration_s", 1800, 1, 24 * 3600);
  const stat = await ctx.artifacts.stat(p.audio_path);
  if (!stat) throw new FarmError("VALIDATION_ERROR", `audio_path not found: ${p.audio_path}`, { field: "audio_path", constraint: "an existing artifact key" });
  const local = path.join(ctx.workDir, `input${path.extname(p.audio_path).slice(0, 12) || ".bin"}`);
  ctx.progress(1, "fetching audio");
  await ctx.artifacts.getToFile(p.audio_path, local);
  ctx.progress(5, "decoding");
  const pcm = await decodeAudio(local, { sampleRate: sr, maxSeconds, signal: ctx.signal, trackChild: (c) => ctx.trackChild(c) });
  const warnings = await completenessWarnings(local, pcm.length / sr, "audio_path");
  fs.rmSync(local, { force: true });
  ctx.progress(20, "decoded");
  const result = await analyzePcmOffThread(pcm, sr, {
    analysisType: p.analysis_type,
    signal: ctx.signal,
    beatModel: beatModelPath(ctx.config, ctx.modelsDir),
    // Analysis stages map to 20..99 of the job.
    onProgress: (pct, msg) => ctx.progress(Math.min(99, 20 + pct * 0.79), msg),
  });
  const all = [...warnings, ...(result.warnings ?? [])];
  return all.length > 0 ? { ...result, warnings: all } : { ...result };
}

const plugin: Plugin = definePlugin({
  manifest: {
    name: "audio",
    version: "0.1.0",
    description: "Music analysis: tempo, beats, downbeats, meter, key, sections, energy (CPU, TypeScript DSP)",
    runtime: "cpu",
    // Defined once in job-types.ts (params schema, description), read by the API too.
    job_types: [AUDIO_ANALYZE, AUDIO_DETECT_BEATS],
    // Optional: the analysis runs without it. Declared so a node lists it as offered (or
    // absent, with the path it looked for) to operators; no job type requires it.
    models: [
      {
        id: BEAT_NET_MODEL,
        vram_mb: 0,
        files: [BEAT_NET_FILE],
        description:
          "beat network (temporal convolutional network, ~63 k weights) over the analyser's band energies; when present, beats, tempo octave and downbeats follow it. Trained by the operator with scripts/audio-eval/beat-net/",
        license: "trained by the operator from renders of GPL-2 MMA grooves and MIDI (see scripts/audio-eval/beat-net/README.md)",
      },
    ],
  },
  async run(task, ctx) {
    if (task.type === JOB_ANALYZE) return runAnalysis(task.params, ctx, "full");
    if (task.type === JOB_DETECT_BEATS) {
      const r = await runAnalysis({ ...task.params, analysis_type: "beats" }, ctx, "beats");
      delete r.analysis_type;
      return r;
    }
    throw new FarmError("VALIDATION_ERROR", `audio plugin cannot run job type ${task.type}`, {
      field: "type",
      constraint: `${JOB_ANALYZE}|${JOB_DETECT_BEATS}`,
    });
  },
});

export default plugin;
