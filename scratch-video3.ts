import fs from "node:fs";
import path from "node:path";
import plugin from "./plugins/video/index.ts";
import { makeTaskContext } from "./test/helpers/task-context.ts";
import { makeClip, makeImage, upload, probe } from "./test/integration/video-fixtures.ts";
const ctx = makeTaskContext();
const dir = fs.mkdtempSync(path.join(ctx.workDir, "..", "in-"));
const red = await upload(ctx.artifacts, makeClip(dir, "red", { w: 320, h: 180, fps: 30, seconds: 2, colour: "red", toneHz: 330 }));
const portrait = await upload(ctx.artifacts, makeClip(dir, "portrait", { w: 180, h: 320, fps: 25, seconds: 1.5, toneHz: 550, pixFmt: "yuv444p" }));
const still = await upload(ctx.artifacts, makeImage(dir, "still", 400, 300));
for (const clips of [
  [{ path: red, transition_out: "crossfade" }, { path: portrait }],
  [{ path: red, transition_out: "crossfade" }, { path: red }],
  [{ path: portrait, transition_out: "crossfade" }, { path: still, duration: 1.2 }],
  [{ path: portrait, transition_out: "crossfade" }, { path: still, duration: 1.2, motion: "ken_burns" }],
  [{ path: red, transition_out: "crossfade" }, { path: portrait, transition_out: "slideleft", transition_duration: 0.3 }, { path: still, duration: 1.2, motion: "ken_burns", transition_in: "dip_to_black" }],
  ] as any[]) {
  for (const fit of ["letterbox", "blur"]) {
  const r = await plugin.run({ job_id: "x", type: "video.assemble", attempt: 1, params: { clips, output_settings: { resolution: "320x180", fps: 24, quality: "draft", fit } } }, ctx);
  const p = probe(path.join(ctx.workDir, "..", "artifacts/outputs/videos/x.mp4"));
  console.log(clips.length, fit, (r.metadata as any).timeline.duration * 24, p.frames, p.duration, p.audioDuration);
  }
}
ctx.cleanup();
