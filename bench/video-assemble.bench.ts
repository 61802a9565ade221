/**
 * Bench: video.assemble (10 clips, 1080p30, 4 s each, crossfades, music) against one
 * hand-written ffmpeg command producing the same edit with the same encoder settings, on
 * the same machine in the same run. Prints markdown: wall times, ratio (target ≤ 1.10x),
 * realtime factor and ffmpeg peak RSS (VmHWM polled from /proc).
 *
 *   node --import tsx bench/video-assemble.bench.ts        (BENCH_RUNS=2 to repeat)
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin from "../plugins/video/index.ts";
import { FsArtifactStore } from "../core/artifacts/fs-store.ts";
import { makeTaskContext } from "../test/helpers/task-context.ts";

const CLIPS = 10;
const SECONDS = 4;
const XF = 0.5;
const W = 1920;
const H = 1080;
const FPS = 30;
const RUNS = Number(process.env.BENCH_RUNS ?? 1);

const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-video-"));
const ff = (args: string[]) => execFileSync("ffmpeg", ["-hide_banner", "-v", "error", "-y", ...args], { stdio: ["ignore", "ignore", "inherit"] });

/** Peak RSS (KiB) of a pid, polled from /proc until it exits. */
function watchPeak(pid: number): () => number {
  let peak = 0;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      /* exited */
    }
  };
  read();
  const timer = setInterval(read, 50);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

function makeInputs(): { clips: string[]; music: string } {
  const clips: string[] = [];
  for (let i = 0; i < CLIPS; i++) {
    const file = path.join(root, `clip-${i}.mp4`);
    ff([
      "-f",
      "lavfi",
      "-i",
      `testsrc2=s=${W}x${H}:r=${FPS}:d=${SECONDS},hue=h=${i * 36}`,
      "-f",
      "lavfi",
      "-i",
      `sine=f=${220 + i * 40}:d=${SECONDS}`,
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      "-c:a",
      "aac",
      "-shortest",
      file,
    ]);
    clips.push(file);
  }
  const music = path.join(root, "music.m4a");
  ff(["-f", "lavfi", "-i", `sine=f=330:d=${CLIPS * SECONDS}`, "-c:a", "aac", music]);
  return { clips, music };
}

/** The same edit written by hand: linear xfade/acrossfade chains, music faded and mixed. */
function handArgs(clips: string[], music: string, out: string): string[] {
  const total = CLIPS * SECONDS - (CLIPS - 1) * XF;
  const g: string[] = [];
  clips.forEach((_, i) => {
    g.push(`[${i}:v]fps=${FPS},scale=${W}:${H}:force_original_aspect_ratio=decrease,pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v${i}]`);
    g.push(`[${i}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a${i}]`);
  });
  let v = "v0";
  let a = "a0";
  for (let i = 1; i < CLIPS; i++) {
    g.push(`[${v}][v${i}]xfade=transition=fade:duration=${XF}:offset=${i * (SECONDS - XF)}[vx${i}]`);
    g.push(`[${a}][a${i}]acrossfade=d=${XF}[ax${i}]`);
    v = `vx${i}`;
    a = `ax${i}`;
  }
  g.push(
    `[${CLIPS}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=0:${total},volume=0.8,afade=t=in:d=1,afade=t=out:st=${total - 2}:d=2[m]`,
  );
  g.push(`[${a}][m]amix=inputs=2:duration=first:normalize=0[aout]`);
  return [
    "-hide_banner",
    "-v",
    "error",
    "-y",
    ...clips.flatMap((c) => ["-i", c]),
    "-i",
    music,
    "-filter_complex",
    g.join(";"),
    "-map",
    `[${v}]`,
    "-map",
    "[aout]",
    "-r",
    String(FPS),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-crf",
    "28",
    "-pix_fmt",
    "yuv420p",
    "-g",
    String(FPS * 2),
    "-c:a",
    "aac",
    "-b:a",
    "192k",
    "-movflags",
    "+faststart",
    out,
  ];
}

async function runHand(clips: string[], music: string): Promise<{ ms: number; peakKiB: number }> {
  const t0 = performance.now();
  const child = spawn("ffmpeg", handArgs(clips, music, path.join(root, "hand.mp4")), { stdio: ["ignore", "ignore", "inherit"] });
  const stop = watchPeak(child.pid!);
  const code = await new Promise<number | null>((r) => child.on("close", r));
  const peakKiB = stop();
  if (code !== 0) throw new Error(`hand-written ffmpeg failed (${code})`);
  return { ms: performance.now() - t0, peakKiB };
}

async function runPlugin(keys: string[], music: string, store: FsArtifactStore, n: number) {
  const ctx = makeTaskContext({ artifacts: store });
  const children: { start: number; end?: number; stop: () => number; peak?: number }[] = [];
  ctx.trackChild = (c) => {
    const pid = c.pid!;
    const entry: (typeof children)[number] = { start: performance.now(), stop: watchPeak(pid) };
    children.push(entry);
    (c as unknown as NodeJS.EventEmitter).once("exit", () => {
      entry.end = performance.now();
      entry.peak = entry.stop();
    });
  };
  const t0 = performance.now();
  const res = await plugin.run(
    {
      job_id: `bench-${n}`,
      type: "video.assemble",
      attempt: 1,
      params: {
        clips: keys.map((path) => ({ path, transition_out: "crossfade", transition_duration: XF })).map((c, i) => (i === CLIPS - 1 ? { path: c.path } : c)),
        audio: { path: music, volume: 0.8, fade_in: 1, fade_out: 2 },
        output_settings: { resolution: `${W}x${H}`, fps: FPS, codec: "h264", quality: "draft", encoder: "software" },
      },
    },
    ctx,
  );
  const jobMs = performance.now() - t0;
  ctx.cleanup();
  // The encode is the longest child (the others are ffprobe and the poster frame).
  const encodeChild = children.reduce((a, b) => (b.end! - b.start > a.end! - a.start ? b : a));
  return { jobMs, encodeMs: encodeChild.end! - encodeChild.start, peakKiB: encodeChild.peak ?? 0, meta: res.metadata as Record<string, unknown> };
}

const t0 = performance.now();
const { clips, music } = makeInputs();
const genS = (performance.now() - t0) / 1000;
const store = new FsArtifactStore(path.join(root, "store"));
const keys: string[] = [];
for (const c of clips) {
  const key = `inputs/${path.basename(c)}`;
  await store.putFile(key, c);
  keys.push(key);
}
await store.putFile("inputs/music.m4a", music);

const rows: string[] = [];
let totalHand = 0;
let totalPlugin = 0;
for (let r = 1; r <= RUNS; r++) {
  const hand = await runHand(clips, music);
  const p = await runPlugin(keys, "inputs/music.m4a", store, r);
  totalHand += hand.ms;
  totalPlugin += p.encodeMs;
  const dur = Number(p.meta.duration);
  rows.push(
    `| ${r} | hand-written ffmpeg | ${(hand.ms / 1000).toFixed(2)} s | – | ${(dur / (hand.ms / 1000)).toFixed(2)}x | ${(hand.peakKiB / 1024).toFixed(0)} MiB |`,
  );
  rows.push(
    `| ${r} | plugin encode (ffmpeg) | ${(p.encodeMs / 1000).toFixed(2)} s | ${(p.encodeMs / hand.ms).toFixed(3)}x | ${(dur / (p.encodeMs / 1000)).toFixed(2)}x | ${(p.peakKiB / 1024).toFixed(0)} MiB |`,
  );
  rows.push(
    `| ${r} | plugin whole job (fetch, probe, encode, poster, upload) | ${(p.jobMs / 1000).toFixed(2)} s | ${(p.jobMs / hand.ms).toFixed(3)}x | ${(dur / (p.jobMs / 1000)).toFixed(2)}x | – |`,
  );
  if (r === RUNS) {
    console.log(`## video.assemble bench\n`);
    console.log(`${CLIPS} clips × ${SECONDS} s, ${W}x${H}@${FPS}, crossfade ${XF} s, music with fades; libx264 ultrafast crf 28 (draft tier), AAC.`);
    console.log(
      `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB. Inputs generated once in ${genS.toFixed(1)} s.`,
    );
    console.log(`Output: ${p.meta.duration} s, ${p.meta.frame_count} frames, ${p.meta.resolution}, ${p.meta.encoder}.\n`);
  }
}
console.log(`| run | what | wall | ratio vs hand | realtime factor | ffmpeg peak RSS |`);
console.log(`|---|---|---|---|---|---|`);
console.log(rows.join("\n"));
const ratio = totalPlugin / totalHand;
console.log(`\nEncode ratio plugin/hand over ${RUNS} run(s): **${ratio.toFixed(3)}x** (target ≤ 1.10x: ${ratio <= 1.1 ? "met" : "NOT met"}).`);
fs.rmSync(root, { recursive: true, force: true });
