/**
 * image.character: an image of a registered character, verified. A parent job (like a
 * batch, see parent-jobs.ts) whose children run one after another:
 *
 *   <id>-g1  image.generate  the request + the character's reference photos, mode "face_ref", seed s1
 *   <id>-e1  face.embed      the generated image, with the character's face model
 *   (similarity below the character's threshold and attempts left:)
 *   <id>-g2  image.generate  same request, a new seed ... up to `attempts` (default 3)
 *
 * Why here and not in the HTTP handler: the loop is job records in the store, so it goes on
 * when the API process dies, works in distributed mode, and a restarted coordinator picks
 * it up from the children that exist (ids are deterministic).
 *
 * The parent's params (built by the API): `{generate: <image.generate params>, character:
 * <the CharacterRecord as it was at submit>, attempts}`. Similarity uses core/characters'
 * verify (the character's model and calibrated threshold).
 * Ending: the first matching image, or after the last attempt the most similar one with
 * `matched: false` (completed either way: the caller decides what a miss means); the
 * result is that generation's result with `metadata.character = {character_id, similarity,
 * threshold, attempts, matched}`. A generation that fails ends the parent with its error;
 * an output without a detectable face counts as a miss (similarity null) and is retried, and so
 * does one the face-quality gate refuses (core/characters/quality.ts: too dark to compare, the
 * look-alike noise the gate exists for): its similarity is not trusted, so it is no match and
 * ranks below every checked face; `tried` names the reason.
 */
import { randomInt } from "node:crypto";
import { FarmError, toFarmError, validation, type SerializedError } from "../core/errors.ts";
import type { Clock } from "../core/clock.ts";
import type { JobEvent, JobRecord } from "../core/job.ts";
import { isTerminal } from "../core/job.ts";
import type { Logger } from "../core/logger.ts";
import { verify } from "../core/characters/logic.ts";
import { thresholdFor } from "../core/characters/thresholds.ts";
import type { CharacterRecord } from "../core/characters/types.ts";
import type { JobStore } from "./job-store.ts";
import { finishParent, markCancelRequested, moveJob, updateJob } from "./state-machine.ts";

export const CHARACTER_JOB_TYPE = "image.character";
export const DEFAULT_CHARACTER_ATTEMPTS = 3;
/** IP-Adapter FaceID / InstantID / PuLID templates take 1-4 reference photos. */
const MAX_REFERENCES = 4;

export interface CharacterFlowHost {
  store: JobStore;
  clock: Clock;
  log: Logger;
  /** Create one child job (queued or placed): id, type and params given. */
  submitStep(parent: JobRecord, id: string, type: string, params: Record<string, unknown>): Promise<JobRecord>;
  cancelChild(id: string): Promise<void>;
  publish(e: JobEvent): void;
  publishEnd(rec: JobRecord): void;
}

export interface CharacterParams {
  generate: Record<string, unknown>;
  character: CharacterRecord;
  attempts: number;
}

interface Attempt {
  k: number;
  gen: JobRecord;
  similarity: number | null;
  /** The quality gate's reasons when the output's face was refused (then similarity is null). */
  quality_issues?: string[];
}

const stepId = (parentId: string, kind: "g" | "e", k: number) => `${parentId}-${kind}${k}`;

/** Checks the params the API built (a job submitted straight to the mesh fails as clearly). */
export function checkCharacterParams(p: Record<string, unknown>): CharacterParams {
  const gen = p.generate;
  if (typeof gen !== "object" || gen === null || Array.isArray(gen) || typeof (gen as Record<string, unknown>).prompt !== "string") {
    throw validation("params.generate", "object", "params.generate must be the image.generate params (with a prompt)");
  }
  const c = p.character as Partial<CharacterRecord> | undefined;
  if (!c || typeof c.character_id !== "string" || typeof c.model !== "string" || !Array.isArray(c.average_embedding) || !Array.isArray(c.embeddings)) {
    throw validation("params.character", "object", "params.character must be the character record");
  }
  if (c.embeddings.length === 0) throw validation("character_id", "references", `character '${c.character_id}' has no reference images`);
  const attempts = p.attempts ?? DEFAULT_CHARACTER_ATTEMPTS;
  if (!Number.isInteger(attempts) || (attempts as number) < 1 || (attempts as number) > 10)
    throw validation("character_attempts", "1..10", "character_attempts must be an integer from 1 to 10");
  return { generate: gen as Record<string, unknown>, character: c as CharacterRecord, attempts: attempts as number };
}

/** The image.generate params of attempt k: the request, the character's photos, face_ref, a seed. */
export function generationParams(p: CharacterParams, seed: number): Record<string, unknown> {
  const refs = p.character.embeddings
    .map((e) => e.source)
    .filter((s) => typeof s === "string" && s.length > 0)
    .slice(0, MAX_REFERENCES);
  const { character_id: _drop, ...rest } = p.generate;
  return { ...rest, reference_images: refs, mode: "face_ref", seed };
}

const keyOf = (imageUrl: unknown): string | undefined =>
  typeof imageUrl === "string" && imageUrl.startsWith("/outputs/") ? `outputs/${imageUrl.slice("/outputs/".length)}` : undefined;

export class CharacterFlows {
  /** Parents with a step in flight (in-memory guard against double advancing). */
  private readonly busy = new Set<string>();

  constructor(
    private readonly host: CharacterFlowHost,
    private readonly seed: () => number = () => randomInt(0, 2 ** 32 - 1),
  ) {}

  isStep(child: JobRecord): boolean {
    return child.parent !== undefined && /-[ge]\d+$/.test(child.id);
  }

  async create(parent: JobRecord): Promise<JobRecord> {
    const p = checkCharacterParams(parent.params);
    const { job, created } = await this.host.store.create(parent);
    if (!created) return job;
    await this.host.submitStep(job, stepId(job.id, "g", 1), "image.generate", generationParams(p, this.firstSeed(p)));
    return job;
  }

  /** After a restart: continue every running character parent from its existing steps. */
  async recover(running: readonly JobRecord[]): Promise<void> {
    for (const parent of running) if (parent.type === CHARACTER_JOB_TYPE) await this.advance(parent.id);
  }

  /** A step ended: decide the next one (called after its store write). */
  stepEnded(child: JobRecord): void {
    const parentId = child.parent?.id;
    if (!parentId) return;
    setImmediate(() => {
      this.advance(parentId).catch(async (err: unknown) => {
        const e = toFarmError(err);
        this.host.log.error("character job step failed", { job_id: parentId, error: e.message });
        // A deterministic failure (a bad embedding, a bad record) would stop the loop for
        // good: end the parent with it rather than leave it running forever. (A store
        // outage fails this write too; a coordinator restart then resumes the loop.)
        const now = this.host.clock.now();
        const rec = await moveJob(
          this.host.store,
          parentId,
          "running",
          "failed",
          { error: e.toJSON(), message: e.message, finished_at: now, updated_at: now },
          {
            history: { at: now, event: "failed", reason: e.message },
          },
        ).catch(() => null);
        if (rec) this.host.publishEnd(rec);
      });
    });
  }

  async cancel(parent: JobRecord): Promise<JobRecord> {
    const now = this.host.clock.now();
    const rec = await markCancelRequested(this.host.store, parent, now, "cancelled by request");
    if (!rec) throw new FarmError("CONFLICT", `job '${parent.id}' changed state while being cancelled; try again`, { field: "job_id", constraint: "stable" });
    const { current } = await this.read(rec);
    if (current && !isTerminal(current.status)) await this.host.cancelChild(current.id).catch(() => undefined);
    await this.advance(parent.id);
    return (await this.host.store.get(parent.id)) ?? rec;
  }

  private firstSeed(p: CharacterParams): number {
    const s = p.generate.seed;
    return typeof s === "number" && Number.isInteger(s) ? s : this.seed();
  }

  /** The steps that exist, in order, and the attempts they make up. */
  private async read(parent: JobRecord): Promise<{ attempts: Attempt[]; current: JobRecord | null; steps: number }> {
    const p = checkCharacterParams(parent.params);
    const attempts: Attempt[] = [];
    let current: JobRecord | null = null;
    let steps = 0;
    for (let k = 1; k <= p.attempts; k++) {
      const gen = await this.host.store.get(stepId(parent.id, "g", k));
      if (!gen) break;
      steps++;
      current = gen;
      if (gen.status !== "completed") break;
      const emb = await this.host.store.get(stepId(parent.id, "e", k));
      if (!emb) {
        attempts.push({ k, gen, similarity: null });
        break;
      }
      steps++;
      current = emb;
      let similarity: number | null = null;
      let issues: string[] | undefined;
      if (emb.status === "completed" && emb.result) {
        const v = verify(p.character, emb.result.embedding as number[], String(emb.result.model), emb.result.quality);
        if (v.verifiable === false) issues = (v.quality_issues ?? []).map((q) => q.code);
        else similarity = v.similarity;
      }
      attempts.push({ k, gen, similarity, ...(issues ? { quality_issues: issues } : {}) });
      if (!isTerminal(emb.status)) break;
    }
    return { attempts, current, steps };
  }

  private async advance(parentId: string): Promise<void> {
    if (this.busy.has(parentId)) return void setTimeout(() => void this.advance(parentId).catch(() => undefined), 5);
    this.busy.add(parentId);
    try {
      const parent = await this.host.store.get(parentId);
      if (!parent || parent.status !== "running") return;
      const p = checkCharacterParams(parent.params);
      const { attempts, current } = await this.read(parent);
      if (!current)
        return this.host.submitStep(parent, stepId(parentId, "g", 1), "image.generate", generationParams(p, this.firstSeed(p))).then(() => undefined);
      if (!isTerminal(current.status)) return; // a step is still running
      const threshold = thresholdFor(p.character.model).threshold;
      const last = attempts.at(-1);
      const k = Number(/-[ge](\d+)$/.exec(current.id)?.[1] ?? 1);
      if (parent.cancel_requested) return this.end(parent, "cancelled", null, threshold, attempts, { code: "JOB_CANCELLED", message: "cancelled by request" });
      // A generation that did not complete ends the job with its own error.
      if (current.id === stepId(parentId, "g", k) && current.status !== "completed") {
        return this.end(
          parent,
          current.status === "cancelled" ? "cancelled" : "failed",
          null,
          threshold,
          attempts,
          current.error ?? { code: "JOB_FAILED", message: `generation attempt ${k} ${current.status}` },
        );
      }
      // Generated, not yet checked: embed its face.
      if (current.id === stepId(parentId, "g", k)) {
        const key = keyOf(current.result?.image_url);
        if (!key)
          return this.end(parent, "failed", null, threshold, attempts, {
            code: "MODEL_ERROR",
            message: `generation attempt ${k} returned no image_url to check the face on`,
          });
        await this.progress(parent, k, p.attempts, `attempt ${k} of ${p.attempts}: checking the face`);
        await this.host.submitStep(parent, stepId(parentId, "e", k), "face.embed", { image: key, model: p.character.model });
        return;
      }
      // Checked.
      const matched = last?.similarity !== null && last?.similarity !== undefined && last.similarity >= threshold;
      if (matched || k >= p.attempts) {
        const best = matched ? last! : [...attempts].sort((a, b) => (b.similarity ?? -2) - (a.similarity ?? -2))[0]!;
        return this.end(parent, "completed", best, threshold, attempts, null, matched);
      }
      await this.progress(
        parent,
        k,
        p.attempts,
        `attempt ${k} similarity ${last?.quality_issues ? `n/a (face not verifiable: ${last.quality_issues.join(", ")})` : last?.similarity === null ? "n/a (no face found)" : last!.similarity!.toFixed(3)} < ${threshold}: regenerating with a new seed`,
      );
      await this.host.submitStep(parent, stepId(parentId, "g", k + 1), "image.generate", generationParams(p, this.seed()));
    } finally {
      this.busy.delete(parentId);
    }
  }

  private async progress(parent: JobRecord, k: number, of: number, message: string): Promise<void> {
    const now = this.host.clock.now();
    const progress = Math.min(95, ((k - 0.5) / of) * 100);
    if (await updateJob(this.host.store, parent.id, "running", { progress, message, updated_at: now }))
      this.host.publish({ type: "progress", job_id: parent.id, progress, message, at: now });
  }

  private async end(
    parent: JobRecord,
    status: "completed" | "failed" | "cancelled",
    best: Attempt | null,
    threshold: number,
    attempts: Attempt[],
    error: SerializedError | null,
    matched = false,
  ): Promise<void> {
    const now = this.host.clock.now();
    const p = checkCharacterParams(parent.params);
    const round = (x: number | null) => (x === null ? null : Math.round(x * 10000) / 10000);
    const character = {
      character_id: p.character.character_id,
      similarity: round(best?.similarity ?? null),
      threshold,
      attempts: attempts.length,
      matched,
      tried: attempts.map((a) => ({
        attempt: a.k,
        job_id: a.gen.id,
        similarity: round(a.similarity),
        ...(a.quality_issues ? { quality_issues: a.quality_issues } : {}),
      })),
    };
    let result: Record<string, unknown> | undefined;
    if (best) {
      const r = best.gen.result ?? {};
      result = { ...r, metadata: { ...((r.metadata as Record<string, unknown> | undefined) ?? {}), character } };
    }
    const message =
      status === "completed"
        ? `${matched ? "matched" : "best of"} ${attempts.length} attempt(s), similarity ${character.similarity ?? "n/a"} (threshold ${threshold})`
        : (error?.message ?? status);
    const rec = await finishParent(this.host.store, parent.id, status, now, {
      message,
      ...(status === "completed" ? { progress: 100, result } : {}),
      ...(error ? { error } : {}),
    });
    if (rec) this.host.publishEnd(rec);
  }
}
