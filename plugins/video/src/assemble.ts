/**
 * video.assemble: clips (videos and stills) + optional music → one video, in ONE ffmpeg
 * run with ONE filter graph. Order: parse → fetch → probe every input → timeline → graph →
 * encode → measure → upload. Every input is probed before the encode starts, so bad media
 * fails fast with the field that named it.
 */
import fsp from "node:fs/promises";
import path from "node:path";
import type { Task, TaskContext } from "../../../core/plugin-contract.ts";
import { validation } from "../../../core/errors.ts";
import { fetchInput } from "./fetch-input.ts";
import { buildFilterGraph, fpsRational, type GraphClip, type GraphMusic } from "./filter-graph.ts";
import { encode, type EncodeJob } from "./encode.ts";
import { finishVideo, type VideoResult } from "./finish.ts";
import { chooseEncoder, parseOutputSettings, type OutputPlan } from "./output-settings.ts";
import { parseAssembleParams, type AssembleParams } from "./params-assemble.ts";
import { probeMedia, type MediaInfo } from "./probe.ts";
import { checkAudioDecodes } from "./decode-check.ts";
import { buildTimeline, type Timeline } from "./timeline.ts";

/** Default output when neither output_settings.resolution/fps nor a platform say otherwise. */
export const DEFAULT_OUTPUT = { width: 1920, height: 1080, fps: 30 };

export interface AssemblePlan {
  params: AssembleParams;
  plan: OutputPlan;
  timeline: Timeline;
  /** ffmpeg arguments up to (not including) the encoder options and output file. */
  inputArgs: string[];
  graph: string;
}

/**
 * Runs `fn` over items with at most `limit` in flight (probing 500 clips must not fork 500
 * ffprobes). On the first failure no new item starts, and it rejects only once the items
 * in flight have settled, so no child process outlives the call.
 */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;
  return out;
}

/**
 * Everything up to the encode, from already-local files: probes, timeline, filter graph and
 * input arguments. Exported for the bench and tests.
 */
export async function planAssemble(
  params: AssembleParams,
  clipFiles: string[],
  musicFile: string | undefined,
  graphFile: string,
  ctx: Pick<TaskContext, "signal" | "trackChild">,
): Promise<AssemblePlan> {
  const plan = parseOutputSettings(params.output_settings, DEFAULT_OUTPUT);
  const run = { signal: ctx.signal, trackChild: ctx.trackChild };
  const infos: MediaInfo[] = await mapLimit(clipFiles, 4, (f, i) => probeMedia(f, `clips[${i}].path`, run));
  infos.forEach((info, i) => {
    if (info.kind === "audio") throw validation(`clips[${i}].path`, "video or image", `clips[${i}].path: the file has no video stream`);
  });
  let music: MediaInfo | undefined;
  if (musicFile) {
    music = await probeMedia(musicFile, "audio.path", run);
    if (!music.hasAudio) throw validation("audio.path", "audio stream", "audio.path: the file has no audio stream");
  }
  const timeline = buildTimeline(
    params.clips,
    infos.map((m) => ({ kind: m.kind === "image" ? "image" : "video", duration: m.duration })),
    plan.fps,
    params.beat_sync,
  );
  const T = timeline.totalFrames / plan.fps;

  const inputArgs: string[] = [];
  const graphClips: GraphClip[] = params.clips.map((c, i) => {
    const info = infos[i]!;
    const still = info.kind === "image";
    return {
      file: clipFiles[i]!,
      trimStart: still ? 0 : c.trim_start,
      startTime: still ? 0 : info.startTime,
      kind: still ? "image" : "video",
      hasAudio: info.hasAudio,
      motion: still ? c.motion : "none",
      motionStrength: c.motion_strength,
    };
  });
  let graphMusic: GraphMusic | undefined;
  const a = params.audio;
  if (a && musicFile) {
    // Headers can probe fine and still not decode: find out now, as a 400, not mid-encode.
    await checkAudioDecodes(musicFile, "audio.path", a.start, T + 1, run);
    inputArgs.push("-ss", a.start.toFixed(6), "-t", (T + 1).toFixed(6), "-i", musicFile);
    graphMusic = {
      input: 0,
      volume: a.volume,
      fadeIn: a.fade_in,
      fadeOut: a.fade_out,
      keepClipAudio: a.keep_clip_audio,
      clipVolume: a.clip_volume,
      ducking: a.ducking,
    };
  }
  const graph = buildFilterGraph(timeline, {
    width: plan.width,
    height: plan.height,
    fit: plan.fit,
    clips: graphClips,
    music: graphMusic,
    audioFrameSize: plan.ext === "mp4" ? 1024 : plan.ext === "webm" ? 960 : undefined,
  });
  await fsp.writeFile(graphFile, graph);
  inputArgs.push("-filter_complex_script", graphFile, "-map", "[vout]", "-map", "[aout]", "-r", fpsRational(plan.fps));
  return { params, plan, timeline, inputArgs, graph };
}

export async function runAssemble(task: Task, ctx: TaskContext): Promise<VideoResult> {
  const params = parseAssembleParams(task.params);
  // Validate output settings before fetching anything.
  parseOutputSettings(params.output_settings, DEFAULT_OUTPUT);
  const dir = await fsp.mkdtemp(path.join(ctx.workDir, "assemble-"));
  try {
    ctx.progress(1, "Fetching inputs");
    // Identical keys are fetched once.
    const byKey = new Map<string, Promise<string>>();
    const fetchOnce = (key: string, field: string, name: string) => {
      let p = byKey.get(key);
      if (!p) byKey.set(key, (p = fetchInput(ctx, key, field, dir, name)));
      return p;
    };
    const clipFiles = await mapLimit(params.clips, 4, (c, i) => fetchOnce(c.path, `clips[${i}].path`, `clip-${i}`));
    const musicFile = params.audio ? await fetchOnce(params.audio.path, "audio.path", "music") : undefined;
    ctx.progress(3, "Probing inputs");
    const p = await planAssemble(params, clipFiles, musicFile, path.join(dir, "graph.txt"), ctx);
    const encoder = await chooseEncoder(p.plan, ctx.gpus);
    const outFile = path.join(dir, `out.${p.plan.ext}`);
    const T = p.timeline.totalFrames / p.plan.fps;
    const job: EncodeJob = { inputArgs: p.inputArgs, outFile, plan: p.plan, encoder, totalSeconds: T, pctFrom: 5, pctTo: 95 };
    ctx.progress(5, `Encoding 0.0/${T.toFixed(1)} s`);
    const used = await encode(job, ctx);
    const t = p.timeline;
    return await finishVideo(task.job_id, outFile, used, ctx, {
      timeline: {
        duration: Number(T.toFixed(6)),
        clips: t.clipFrames.map((n, i) => ({ index: i, start: Number((t.starts[i]! / t.fps).toFixed(6)), duration: Number((n / t.fps).toFixed(6)) })),
        transitions: t.joins.map((j, i) => ({ after_clip: i, name: j.name, duration: Number((j.frames / t.fps).toFixed(6)) })),
      },
    });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
