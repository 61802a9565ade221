import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { execFileSync } from "node:child_process";
import { makeClip, makeImage } from "./test/integration/video-fixtures.ts";
import { planAssemble } from "./plugins/video/src/assemble.ts";
import { parseAssembleParams } from "./plugins/video/src/params-assemble.ts";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "v4-"));
const portrait = makeClip(dir, "portrait", { w: 180, h: 320, fps: 25, seconds: 1.5, toneHz: 550 });
const still = makeImage(dir, "still", 400, 300);
const params = parseAssembleParams({ clips: [{ path: "a", transition_out: "crossfade" }, { path: "b", duration: 1.2 }], output_settings: { resolution: "320x180", fps: 24 } });
const p = await planAssemble(params, [portrait, still], undefined, path.join(dir, "g.txt"), { signal: new AbortController().signal, trackChild: () => {} });
console.log(p.graph);
const g = p.graph.replace("[pb1]trim", "[pb1]showinfo,trim").replace("[ph1]trim", "[ph1]showinfo,trim");
fs.writeFileSync(path.join(dir, "g2.txt"), g);
try { execFileSync("ffmpeg", ["-hide_banner", "-filter_complex_script", path.join(dir, "g2.txt"), "-map", "[vout]", "-map", "[aout]", "-f", "null", "-"], { stdio: ["ignore", "ignore", "pipe"] }); } catch (e) { console.log(String((e as any).stderr).slice(-3000)); }
const r = require("node:child_process").spawnSync("ffmpeg", ["-hide_banner", "-filter_complex_script", path.join(dir, "g2.txt"), "-map", "[vout]", "-map", "[aout]", "-f", "null", "-"], { encoding: "utf8" });
console.log(r.stderr.split("\n").filter((l: string) => /showinfo|frame=/.test(l)).map((l: string) => l.replace(/ checksum.*/, "").slice(0, 150)).join("\n"));
fs.rmSync(dir, { recursive: true });
