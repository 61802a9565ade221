/**
 * Opt-in timing marks along one job's path through the farm, for benchmarks
 * (bench/comfyui.bench.ts): where the farm's own milliseconds go between the HTTP request
 * and its answer. Off unless the process starts with NB_PERF_SPANS=<file> (not a FARM_
 * variable: those are config overrides); then every mark is a performance.now() reading
 * kept per job id, and perfEnd() appends the job's marks to that file as one JSON line.
 * Off, a mark is one boolean test: nothing is logged, nothing is kept.
 *
 * performance.now() readings compare only within one process, so the marks mean something
 * in an embedded farm (API, coordinator and agent in one process), which is what the bench runs.
 */
import fs from "node:fs";

const FILE = process.env.NB_PERF_SPANS;
/** True when marks are recorded (checked by callers that would compute something for a mark). */
export const perfOn = typeof FILE === "string" && FILE.length > 0;

// Bounded: a job that never reaches perfEnd (failed, async) must not grow the map forever.
const MAX_JOBS = 1000;
const marks = new Map<string, Array<[string, number]>>();

/** Record that `jobId` reached `name` now (or at `at`, a performance.now() reading). */
export function perfMark(jobId: string, name: string, at?: number): void {
  if (!perfOn) return;
  let m = marks.get(jobId);
  if (!m) {
    if (marks.size >= MAX_JOBS) marks.delete(marks.keys().next().value!);
    m = [];
    marks.set(jobId, m);
  }
  m.push([name, at ?? performance.now()]);
}

/** Write the job's marks as one line {job, t0_epoch, marks: [[name, ms since the first mark], ...]} and forget them. */
export function perfEnd(jobId: string): void {
  if (!perfOn) return;
  const m = marks.get(jobId);
  marks.delete(jobId);
  if (!m || m.length === 0) return;
  const t0 = Math.min(...m.map(([, t]) => t));
  // t0_epoch (ms since the Unix epoch, sub-ms): lets another process on the same machine (the
  // bench's client) place its own send and receive times around these marks.
  const line = JSON.stringify({
    job: jobId,
    t0_epoch: performance.timeOrigin + t0,
    marks: m.map(([n, t]) => [n, Math.round((t - t0) * 1000) / 1000]),
  });
  // Sync on purpose: only benchmarks turn this on, and a line must not be lost at exit.
  fs.appendFileSync(FILE!, line + "\n");
}
