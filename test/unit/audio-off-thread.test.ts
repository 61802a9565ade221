/** The audio DSP runs in a worker thread, so an agent keeps answering heartbeats while it works. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { analyzePcmOffThread } from "../../plugins/audio/off-thread.ts";
import { analyzePcm } from "../../plugins/audio/analyze.ts";

/** 30 s of clicks at 120 BPM over a quiet tone. */
function clicks(seconds: number, sr = 22050): Float32Array {
  const x = new Float32Array(seconds * sr);
  for (let i = 0; i < x.length; i++) {
    const t = i / sr;
    x[i] = 0.05 * Math.sin(2 * Math.PI * 220 * t) + (t % 0.5 < 0.02 ? 0.8 * Math.sin(2 * Math.PI * 1000 * t) : 0);
  }
  return x;
}

test("the event loop stays free while the analysis runs, and the result equals the in-thread one", async () => {
  const pcm = clicks(30);
  let done = false;
  let timerRanBeforeResult = false;
  setTimeout(() => (timerRanBeforeResult = !done), 0);
  const progress: number[] = [];
  const r = await analyzePcmOffThread(pcm, 22050, { analysisType: "beats", onProgress: (p) => progress.push(p) }).then((x) => {
    done = true;
    return x;
  });
  assert.equal(timerRanBeforeResult, true, "a timer due during the analysis ran before it finished");
  assert.ok(progress.length > 0, "progress crosses the thread boundary");
  const same = analyzePcm(pcm, 22050, { analysisType: "beats" });
  assert.deepEqual(r, same);
  assert.ok(typeof r.bpm === "number" && Math.abs(r.bpm - 120) < 2, `bpm ${r.bpm}`);
});

test("cancel stops the worker; the next analysis starts a fresh one", async () => {
  const ac = new AbortController();
  const p = analyzePcmOffThread(clicks(60), 22050, { signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(p, { code: "JOB_CANCELLED" });
  const r = await analyzePcmOffThread(clicks(5), 22050, { analysisType: "tempo" });
  assert.ok(typeof r.bpm === "number" && Math.abs(r.bpm - 120) < 3, `bpm ${r.bpm}`);
});
