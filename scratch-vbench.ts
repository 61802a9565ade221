import fs from "node:fs";
import path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { planAssemble } from "./plugins/video/src/assemble.ts";
import { parseAssembleParams } from "./plugins/video/src/params-assemble.ts";
import { encoderArgs } from "./plugins/video/src/output-settings.ts";
const dir = "/work/main/.scratch-vbench";
fs.mkdirSync(dir, { recursive: true });
const N = 6;
const clips: string[] = [];
for (let i = 0; i < N; i++) {
  const f = path.join(dir, `c${i}.mp4`);
  if (!fs.existsSync(f)) execFileSync("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=s=1920x1080:r=30:d=4,hue=h=${i * 36}`, "-f", "lavfi", "-i", `sine=f=${220 + i * 40}:d=4`, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", f]);
  clips.push(f);
}
const params = parseAssembleParams({ clips: clips.map((_, i) => ({ path: "k", transition_out: i < N - 1 ? "crossfade" : undefined })), output_settings: { resolution: "1920x1080", fps: 30, quality: "draft" } });
const p = await planAssemble(params, clips, undefined, path.join(dir, "g.txt"), { signal: new AbortController().signal, trackChild: () => {} });
async function time(label: string, graph: string, extraInputs: string[] = []) {
  fs.writeFileSync(path.join(dir, "g2.txt"), graph);
  const args = ["-v", "error", "-y", ...extraInputs, "-filter_complex_script", path.join(dir, "g2.txt"), "-map", "[vout]", "-map", "[aout]", "-r", "30", ...encoderArgs(p.plan, "libx264"), path.join(dir, "o.mp4")];
  const t0 = performance.now();
  const c = spawn("ffmpeg", args, { stdio: ["ignore", "ignore", "inherit"] });
  let peak = 0;
  const timer = setInterval(() => { try { peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${c.pid}/status`, "utf8"))?.[1])); } catch {} }, 50);
  await new Promise((r) => c.on("close", r));
  clearInterval(timer);
  console.log(label, ((performance.now() - t0) / 1000).toFixed(2), "s", (peak / 1024).toFixed(0), "MiB");
}
const which = process.argv[2] ?? "all";
if (which === "all" || which === "movie") await time("movie auto threads", p.graph);
if (which === "all" || which === "movie1") await time("movie dec_threads=1", p.graph.replace(/:s=dv/g, ":dec_threads=1:s=dv"));
if (which === "all" || which === "inputs") {
  let g = p.graph;
  clips.forEach((c, i) => { g = g.replace(new RegExp(`movie=filename=[^;]*\\[mv${i}\\]\\[ma${i}\\];\\n`), "").replace(`[mv${i}]`, `[${i}:v]`).replace(`[ma${i}]`, `[${i}:a]`); });
  await time("-i inputs", g, clips.flatMap((c) => ["-i", c]));
}
