/**
 * Beat-synced assembly through the front door, as a user would send it: clips and a music
 * track, beat_sync on, no markers. The farm runs the audio-analysis job first, then the
 * assembly cuts on the detected beats: one chained job (coordinator/job-chains.ts), so
 * `?async=true` answers 202 before the analysis has run.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedFarm } from "../helpers/embedded-farm.ts";
import { http, waitJob } from "../helpers/http.ts";

const dataUrl = (file: string, mime: string) => `data:${mime};base64,${fs.readFileSync(file).toString("base64")}`;

let dir = "";
let farm: Awaited<ReturnType<typeof startEmbeddedFarm>>;
let request: Record<string, unknown>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-beatsync-"));
  farm = await startEmbeddedFarm({ agent: { plugins: ["audio", "video"] }, api: { body_limit_mb: 20 } });
  // A click track at 120 BPM (a 1 kHz tick every 0.5 s) with a low drone, 12 s, as mp3.
  const music = path.join(dir, "clicks.mp3");
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    "aevalsrc=0.8*sin(2*PI*1000*t)*lt(mod(t\\,0.5)\\,0.03)+0.1*sin(2*PI*110*t):s=22050:d=12",
    "-ac",
    "1",
    "-b:a",
    "128k",
    music,
  ]);
  const clips = ["red", "green", "blue"].map((c) => {
    const f = path.join(dir, `${c}.mp4`);
    execFileSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", `color=c=${c}:s=160x90:r=25:d=3`, "-pix_fmt", "yuv420p", f]);
    return f;
  });
  request = {
    clips: clips.map((f) => ({ path: dataUrl(f, "video/mp4"), duration: 2.2 })),
    audio: { path: dataUrl(music, "audio/mpeg"), volume: 0.8 },
    output_settings: { resolution: "160x90", fps: 25, quality: "draft" },
    beat_sync: { enabled: true, mode: "every_beat", min_shot_s: 1 },
  };
});

afterAll(async () => {
  await farm?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

function assertCutsOnBeats(result: Record<string, unknown>): void {
  const timeline = (result.metadata as { timeline: { clips: { start: number }[] } }).timeline;
  const starts = timeline.clips.map((c) => c.start).slice(1);
  assert.equal(starts.length, 2);
  for (const s of starts) {
    const offBeat = Math.abs(s / 0.5 - Math.round(s / 0.5)) * 0.5;
    assert.ok(offBeat <= 0.04 + 0.04, `cut at ${s} s is ${offBeat.toFixed(3)} s off the 0.5 s beat grid`);
  }
}

test("beat_sync without markers: cuts land on the beats the audio plugin found", async () => {
  const r = await http(farm.url, "POST", "/api/v1/video/assemble", request);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assertCutsOnBeats(r.body);
  const video = await fetch(`${farm.url}${r.body.video_url}`);
  assert.equal(video.status, 200);
  assert.ok((await video.arrayBuffer()).byteLength > 1000);
});

test("?async=true answers 202 before the beat analysis has run, and the job ends with the beat-synced video", async () => {
  const r = await http(farm.url, "POST", "/api/v1/video/assemble?async=true", request);
  const answeredAt = Date.now();
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const jobId = String(r.body.job_id);
  const done = await waitJob(farm.url, jobId, 120_000);
  assert.equal(done.status, "completed", JSON.stringify(done.error));
  assertCutsOnBeats(done.result as Record<string, unknown>);
  // The analysis ran as the job's first step, after the answer had gone out.
  const analysis = (await http(farm.url, "GET", `/api/v1/jobs/${jobId}-s1`)).body;
  assert.equal(analysis.type, "audio.detect_beats");
  assert.equal(analysis.status, "completed");
  assert.ok(
    Date.parse(String(analysis.finished_at)) > answeredAt - 5,
    `analysis finished at ${String(analysis.finished_at)}, the 202 came at ${new Date(answeredAt).toISOString()}`,
  );
});
