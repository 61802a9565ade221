/**
 * Chained jobs (job dependencies): one job whose steps run one after another, each fed
 * by the result of the one before. /video/assemble with beat sync and no markers is one:
 *
 *   <id>-s1  audio.detect_beats  {audio_path}
 *   <id>-s2  video.assemble      the request, with s1's beats and downbeats filled in
 *
 * Why here and not in the HTTP handler: the handler used to run the analysis first and
 * wait for it, so `?async=true` still waited. As job records the chain answers 202 at
 * once, goes on when the API process dies, and a restarted coordinator resumes it from
 * the steps that exist (ids are deterministic), as batches and character jobs do.
 *
 * The parent is created `running` without a lease (it runs nowhere). A step is created
 * when the one before completed; the parent ends with the last step's result, or with
 * the error of the first step that failed or was cancelled. Cancelling the parent cancels
 * the step in flight and ends the parent `cancelled`.
 */
import { toFarmError, validation, type SerializedError } from "../core/errors.ts";
import type { Clock } from "../core/clock.ts";
import { isTerminal, type JobEvent, type JobRecord, type JobStep } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";
import type { JobStore } from "./job-store.ts";
import { finishParent, markCancelRequested, updateJob } from "./state-machine.ts";

/** Most steps one chain may have. */
export const MAX_STEPS = 8;

const TYPE_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
const PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,7}$/;

export const stepId = (parentId: string, k: number) => `${parentId}-s${k}`;

export interface ChainHost {
  store: JobStore;
  clock: Clock;
  log: Logger;
  /** Create (and queue or place) step `index` (0-based) with this id, type and params. */
  submitStep(parent: JobRecord, id: string, index: number, type: string, params: Record<string, unknown>): Promise<JobRecord>;
  cancelChild(id: string): Promise<void>;
  publish(e: JobEvent): void;
  publishEnd(rec: JobRecord): void;
}

/** Validates `steps` of a submission: 2..MAX_STEPS steps, the last one of the job's own type, inputs only from step 2 on. */
export function checkSteps(v: unknown, type: string): JobStep[] {
  if (!Array.isArray(v) || v.length < 2 || v.length > MAX_STEPS) throw validation("steps", "length", `steps must be an array of 2-${MAX_STEPS} steps`);
  return v
    .map((raw, i) => {
      const f = `steps[${i}]`;
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw validation(f, "type", `${f} must be an object {type, params, inputs?}`);
      const { type: t, params, inputs } = raw as Record<string, unknown>;
      if (typeof t !== "string" || !TYPE_RE.test(t)) throw validation(`${f}.type`, "pattern", `${f}.type must be a job type name`);
      if (typeof params !== "object" || params === null || Array.isArray(params)) throw validation(`${f}.params`, "type", `${f}.params must be an object`);
      const step: JobStep = { type: t, params: params as Record<string, unknown> };
      if (inputs !== undefined) {
        if (i === 0) throw validation(`${f}.inputs`, "first_step", "the first step has no previous result to take inputs from");
        if (typeof inputs !== "object" || inputs === null || Array.isArray(inputs))
          throw validation(`${f}.inputs`, "type", `${f}.inputs must map result fields to param paths`);
        for (const [field, p] of Object.entries(inputs)) {
          if (typeof p !== "string" || !PATH_RE.test(p))
            throw validation(`${f}.inputs.${field}`, "pattern", `${f}.inputs.${field} must be a dotted param path`);
        }
        step.inputs = inputs as Record<string, string>;
      }
      return step;
    })
    .map((s, i, all) => {
      if (i === all.length - 1 && s.type !== type) throw validation("steps", "last_type", `the last step must be of the job's type '${type}'`);
      return s;
    });
}

/** `params` with the previous result's fields placed at the step's input paths (a copy; nothing shared is changed). */
export function stepParams(step: JobStep, prev: Record<string, unknown> | null): Record<string, unknown> {
  const out = structuredClone(step.params);
  for (const [field, p] of Object.entries(step.inputs ?? {})) {
    if (!prev || !(field in prev)) throw new Error(`the previous step's result has no '${field}' for ${p}`);
    const keys = p.split(".");
    let at: Record<string, unknown> = out;
    for (const k of keys.slice(0, -1)) {
      const next = at[k];
      at = (at[k] = typeof next === "object" && next !== null && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
    }
    at[keys.at(-1)!] = prev[field];
  }
  return out;
}

export class JobChains {
  /** Parents being advanced now (in-memory guard against advancing one twice at once). */
  private readonly busy = new Set<string>();

  constructor(private readonly host: ChainHost) {}

  isStep(child: JobRecord): boolean {
    return child.parent !== undefined && /-s\d+$/.test(child.id);
  }

  /** Store the parent (running, no lease) and start its first step. Returns the parent. */
  async create(parent: JobRecord): Promise<JobRecord> {
    const { job, created } = await this.host.store.create(parent);
    if (created) await this.advance(job.id);
    return job;
  }

  /** After a restart: continue every running chain from the steps that exist. */
  async recover(running: readonly JobRecord[]): Promise<void> {
    for (const p of running) if (p.steps) await this.advance(p.id);
  }

  /** A step ended (called after its store write): start the next one or end the chain. */
  stepEnded(child: JobRecord): void {
    const parentId = child.parent?.id;
    if (!parentId) return;
    setImmediate(
      () =>
        void this.advance(parentId).catch((err: unknown) =>
          this.host.log.error("chained job step failed", { job_id: parentId, error: toFarmError(err).message }),
        ),
    );
  }

  async cancel(parent: JobRecord): Promise<JobRecord> {
    const now = this.host.clock.now();
    const rec = await markCancelRequested(this.host.store, parent, now, "cancelled by request");
    if (!rec) return (await this.host.store.get(parent.id)) ?? parent; // it ended meanwhile
    const current = (await this.read(rec)).at(-1);
    if (current && !isTerminal(current.status)) await this.host.cancelChild(current.id).catch(() => undefined);
    await this.advance(parent.id);
    return (await this.host.store.get(parent.id)) ?? rec;
  }

  /** The steps that exist, in order. */
  private async read(parent: JobRecord): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for (let k = 1; k <= (parent.steps?.length ?? 0); k++) {
      const s = await this.host.store.get(stepId(parent.id, k));
      if (!s) break;
      out.push(s);
    }
    return out;
  }

  private async advance(parentId: string): Promise<void> {
    if (this.busy.has(parentId)) return void setTimeout(() => void this.advance(parentId).catch(() => undefined), 5);
    this.busy.add(parentId);
    try {
      const parent = await this.host.store.get(parentId);
      if (!parent || parent.status !== "running" || !parent.steps) return;
      const done = await this.read(parent);
      const last = done.at(-1);
      if (last && !isTerminal(last.status)) return; // a step is still running
      if (parent.cancel_requested) return this.end(parent, "cancelled", null, { code: "JOB_CANCELLED", message: "cancelled by request" });
      if (last && last.status !== "completed") {
        const k = done.length;
        const error = last.error ?? { code: "JOB_FAILED", message: `step ${k} (${last.type}) ${last.status}` };
        return this.end(parent, last.status === "cancelled" ? "cancelled" : "failed", null, error);
      }
      const n = parent.steps.length;
      if (done.length === n) return this.end(parent, "completed", last!.result ?? {}, null);
      const step = parent.steps[done.length]!;
      let params: Record<string, unknown>;
      try {
        params = stepParams(step, last?.result ?? null);
      } catch (err) {
        return this.end(parent, "failed", null, { code: "JOB_FAILED", message: `step ${done.length + 1} (${step.type}): ${toFarmError(err).message}` });
      }
      await this.progress(parent, (done.length / n) * 100, `step ${done.length + 1} of ${n}: ${step.type}`);
      await this.host.submitStep(parent, stepId(parentId, done.length + 1), done.length, step.type, params);
    } finally {
      this.busy.delete(parentId);
    }
  }

  private async progress(parent: JobRecord, progress: number, message: string): Promise<void> {
    const now = this.host.clock.now();
    if (await updateJob(this.host.store, parent.id, "running", { progress, message, updated_at: now }))
      this.host.publish({ type: "progress", job_id: parent.id, progress, message, at: now });
  }

  private async end(
    parent: JobRecord,
    status: "completed" | "failed" | "cancelled",
    result: Record<string, unknown> | null,
    error: SerializedError | null,
  ): Promise<void> {
    const now = this.host.clock.now();
    const message = error?.message ?? `${parent.steps?.length ?? 0} steps completed`;
    const rec = await finishParent(this.host.store, parent.id, status, now, {
      message,
      ...(result ? { progress: 100, result } : {}),
      ...(error ? { error } : {}),
    });
    if (rec) this.host.publishEnd(rec);
  }
}
