/**
 * Submission: what a new job needs and whether any live node could ever run it (checked
 * before anything is stored), then storing it: a plain job is placed or queued
 * (dispatch-rounds.ts); a batch, a character job or a chained job becomes a parent that
 * runs nowhere while its flow creates the children (parent-jobs.ts, character-flow.ts,
 * job-chains.ts). The Coordinator facade hands `submit` here.
 */
import { FarmError, validation } from "../core/errors.ts";
import type { JobRecord, JobRequirements, JobStep, SubmitJobInput } from "../core/job.ts";
import { CHARACTER_JOB_TYPE, type CharacterFlows, checkCharacterParams, generationParams } from "./character-flow.ts";
import { MAX_STORED_REASONS, type CoordinatorContext } from "./coordinator-context.ts";
import type { DispatchRounds } from "./dispatch-rounds.ts";
import { checkSteps, type JobChains } from "./job-chains.ts";
import { ParamCheck } from "./param-check.ts";
import { checkChildren, childId, type ParentJobs } from "./parent-jobs.ts";
import { requirementClass } from "./pending-index.ts";
import { schedule } from "./scheduler.ts";
import { createdAs } from "./state-machine.ts";
import { capabilityError, newJobRecord } from "./submission.ts";
import { checkSubmit } from "./validate.ts";

/** The parent-job flows a submission may start. */
export interface JobFlows {
  /** Batches: parent jobs that end when their children have. */
  parents: ParentJobs;
  /** image.character: generate, check the face, regenerate. */
  characters: CharacterFlows;
  /** Chained jobs: steps one after another, each fed by the previous result. */
  chains: JobChains;
}

export class JobIntake {
  private readonly paramCheck: ParamCheck;
  /** requirement class -> capability version at which it was last found possible. */
  private readonly possible = new Map<string, number>();

  constructor(
    private readonly ctx: CoordinatorContext,
    private readonly dispatch: DispatchRounds,
    private readonly flows: JobFlows,
  ) {
    this.paramCheck = new ParamCheck(ctx.log);
  }

  /**
   * Persist a new pending job and trigger dispatch. Same idempotency key -> the existing
   * job. If no live node could ever run it, throws CAPABILITY_UNAVAILABLE (503) naming
   * the missing capability, with per-node reasons in `details.reasons`; nothing is stored.
   */
  async submit(input: SubmitJobInput): Promise<JobRecord> {
    const inp = checkSubmit(input);
    if (inp.idempotency_key !== undefined) {
      const existing = await this.ctx.store.findByIdempotencyKey(inp.idempotency_key);
      if (existing) return existing;
    }
    if (input.children !== undefined && input.steps !== undefined) throw validation("steps", "exclusive", "a job has children or steps, not both");
    if (input.children !== undefined) return this.submitParent(inp, checkChildren(input.children));
    if (input.steps !== undefined) return this.submitChain(inp, checkSteps(input.steps, inp.type));
    if (inp.type === CHARACTER_JOB_TYPE) return this.submitCharacter(inp);
    const requirements = this.possibleRequirements(inp.type, inp.params);
    const now = this.ctx.clock.now();
    return this.dispatch.createJob(newJobRecord(inp, requirements, now, this.ctx.cfg.max_attempts), now);
  }

  /**
   * The job's requirements; CAPABILITY_UNAVAILABLE when no live node could ever run it,
   * VALIDATION_ERROR when its params break the schema its plugin declares (param-check.ts).
   */
  private possibleRequirements(type: string, params: Record<string, unknown>, checkParams = true): JobRequirements {
    const requirements = this.ctx.requirementsFor(type, params, this.ctx.registry.reports());
    const cls = requirementClass({ type, requirements });
    if (this.possible.get(cls) !== this.ctx.registry.capabilityVersion) {
      const d = schedule({ type, requirements }, this.ctx.registry.views(), { maxReasons: MAX_STORED_REASONS });
      if (d.verdict === "impossible") throw capabilityError(d, type, requirements);
      this.possible.set(cls, this.ctx.registry.capabilityVersion);
    }
    if (checkParams) this.paramCheck.check(type, params, () => this.ctx.registry.reports(), this.ctx.registry.capabilityVersion);
    return requirements;
  }

  /**
   * A parent job: every item is checked first (one impossible item -> 503 and nothing is
   * stored), then the parent is stored and its children created (parent-jobs.ts).
   */
  private async submitParent(inp: ReturnType<typeof checkSubmit>, children: ReturnType<typeof checkChildren>): Promise<JobRecord> {
    for (const item of children.items) {
      if (children.type === CHARACTER_JOB_TYPE) this.characterPossible(checkCharacterParams(item));
      else this.possibleRequirements(children.type, item);
    }
    const now = this.ctx.clock.now();
    // A parent runs nowhere: it is running from the start and ends when its children have.
    return this.flows.parents.create({ ...createdAs(newJobRecord(inp, {}, now, 1), "running", { started_at: now }), children });
  }

  /**
   * A chained job (job-chains.ts): every step must be possible now, else 503 naming the
   * missing capability and nothing is stored. A step fed by the previous result has its
   * params checked when it is created (they are incomplete until then).
   */
  private async submitChain(inp: ReturnType<typeof checkSubmit>, steps: JobStep[]): Promise<JobRecord> {
    steps.forEach((st, i) => {
      if (st.type === CHARACTER_JOB_TYPE) throw validation(`steps[${i}].type`, "flow", "a chain step cannot itself be a character job");
      this.possibleRequirements(st.type, st.params, st.inputs === undefined);
    });
    const now = this.ctx.clock.now();
    return this.flows.chains.create({ ...createdAs(newJobRecord(inp, {}, now, 1), "running", { started_at: now }), steps });
  }

  /**
   * image.character (character-flow.ts): every step must be possible now (generation on a
   * node that advertises the model's face-reference variant, face.embed with the
   * character's face model), else 503 naming what is missing and nothing is stored.
   */
  private async submitCharacter(inp: ReturnType<typeof checkSubmit>): Promise<JobRecord> {
    this.characterPossible(checkCharacterParams(inp.params));
    const now = this.ctx.clock.now();
    return this.flows.characters.create(createdAs(newJobRecord(inp, {}, now, 1), "running", { started_at: now }));
  }

  private characterPossible(p: ReturnType<typeof checkCharacterParams>): void {
    const gen = generationParams(p, 0);
    const model = typeof gen.model === "string" ? gen.model : undefined;
    const variant = `${model ?? "(default model)"}:face_ref`;
    if (!model || !this.ctx.registry.reports().some((r) => (r.models["image.generate"] ?? []).includes(variant))) {
      throw new FarmError(
        "CAPABILITY_UNAVAILABLE",
        `character_id needs a face-reference workflow: no live node offers '${variant}' (ComfyUI with IP-Adapter FaceID, InstantID or PuLID nodes and weights)`,
        {
          field: "model",
          constraint: "face_ref",
          job_type: "image.generate",
          model: variant,
        },
      );
    }
    this.possibleRequirements("image.generate", gen);
    // A capability probe, not the step's params (its image exists only after generation): no param check.
    this.possibleRequirements("face.embed", { model: p.character.model }, false);
  }

  /** Child `index` of a parent: id `<parent>-<index>`, the parent's owner and priority. */
  async submitChild(parent: JobRecord, index: number): Promise<JobRecord> {
    const children = parent.children!;
    return this.createChild(parent, childId(parent.id, index), index, children.type, children.items[index]!);
  }

  async createChild(parent: JobRecord, id: string, index: number, type: string, params: Record<string, unknown>): Promise<JobRecord> {
    const now = this.ctx.clock.now();
    if (type === CHARACTER_JOB_TYPE) {
      // A batch item with a character_id is itself a (nested) image.character parent.
      const owner = parent.owner !== undefined ? { owner: parent.owner } : {};
      const rec = newJobRecord({ type, params, priority: parent.priority, ...owner }, {}, now, 1);
      return this.flows.characters.create({ ...createdAs(rec, "running", { started_at: now }), id, parent: { id: parent.id, index } });
    }
    const base = newJobRecord(
      { type, params, priority: parent.priority, ...(parent.owner !== undefined ? { owner: parent.owner } : {}) },
      this.ctx.requirementsFor(type, params, this.ctx.registry.reports()),
      now,
      this.ctx.cfg.max_attempts,
    );
    return this.dispatch.createJob({ ...base, id, parent: { id: parent.id, index } }, now);
  }
}
