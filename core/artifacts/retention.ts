/**
 * Retention for the artifact store: deletes outputs and uploads older than their kind's
 * limit (`artifacts.retention`). Job records already expire after coordinator.job_retention_h;
 * without this, media stayed forever and filled the disk or the bucket.
 *
 * One sweeper per farm runs in the coordinator role (there is one active coordinator), so
 * two processes never walk the same bucket. Age is the object's modification time: an
 * upload sent again is rewritten (api/inputs/uploads.ts), which renews it.
 */
import type { ArtifactStore } from "../artifact-store.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";

/**
 * Temp files older than this are orphans: a writer's file has its mtime renewed by every
 * write, and no put waits an hour between two chunks (a /view or upload stalls into its
 * deadline in minutes). Clocks of processes sharing a folder may differ a little; an hour
 * leaves room for that too.
 */
export const TEMP_ORPHAN_AGE_MS = 3_600_000;

export interface RetentionRule {
  /** Key prefix, e.g. "outputs/". */
  prefix: string;
  /** Objects modified longer ago than this are deleted; 0 keeps them forever. */
  maxAgeMs: number;
}

export interface SweepResult {
  prefix: string;
  deleted: number;
  bytes: number;
  failed: number;
}

export function retentionRules(cfg: { outputs_h: number; uploads_h: number }): RetentionRule[] {
  return [
    { prefix: "outputs/", maxAgeMs: cfg.outputs_h * 3_600_000 },
    { prefix: "uploads/", maxAgeMs: cfg.uploads_h * 3_600_000 },
  ];
}

export class ArtifactSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SweepResult[]> | null = null;

  constructor(private readonly deps: { store: ArtifactStore; clock: Clock; logger: Logger; rules: RetentionRule[]; intervalMs: number }) {}

  /** Sweep now (one at a time: a call during a sweep gets that sweep's result). */
  sweep(): Promise<SweepResult[]> {
    this.running ??= this.sweepAll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  start(): void {
    // Orphan temp files are swept even when every kind is kept for ever.
    if (this.timer || (this.deps.rules.every((r) => r.maxAgeMs <= 0) && !this.deps.store.sweepTemp)) return;
    const tick = () => void this.sweep().catch((err: unknown) => this.deps.logger.error("artifact retention sweep failed", { error: String(err) }));
    this.timer = setInterval(tick, this.deps.intervalMs);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  private async sweepAll(): Promise<SweepResult[]> {
    const out: SweepResult[] = [];
    if (this.deps.store.sweepTemp) {
      // Temp files a dead writer left: list() hides them, so the rules below never see them.
      const t = await this.deps.store.sweepTemp(this.deps.clock.now() - TEMP_ORPHAN_AGE_MS);
      if (t.deleted > 0) this.deps.logger.info("orphan temp files of interrupted writes deleted", { ...t, min_age_h: TEMP_ORPHAN_AGE_MS / 3_600_000 });
    }
    for (const rule of this.deps.rules) {
      if (rule.maxAgeMs <= 0) continue;
      const r = await this.sweepRule(rule);
      out.push(r);
      if (r.deleted > 0 || r.failed > 0) this.deps.logger.info("artifacts past retention deleted", { ...r, max_age_h: rule.maxAgeMs / 3_600_000 });
    }
    return out;
  }

  private async sweepRule(rule: RetentionRule): Promise<SweepResult> {
    const cutoff = this.deps.clock.now() - rule.maxAgeMs;
    const res: SweepResult = { prefix: rule.prefix, deleted: 0, bytes: 0, failed: 0 };
    for (const info of await this.deps.store.list(rule.prefix)) {
      // An object without a modification time is kept: its age is unknown.
      if (info.modifiedAt === undefined || info.modifiedAt >= cutoff) continue;
      try {
        await this.deps.store.delete(info.key);
        res.deleted++;
        res.bytes += info.size;
      } catch (err) {
        res.failed++;
        this.deps.logger.warn("could not delete artifact past retention", { key: info.key, error: String(err) });
      }
    }
    return res;
  }
}
