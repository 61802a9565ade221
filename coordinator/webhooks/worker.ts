/**
 * Webhook delivery, owned by the coordinator process (not the HTTP handler that took the
 * request): when a job with a webhook ends (completed, failed or cancelled), its record in
 * the shape GET /api/v1/jobs/{id} answers is POSTed to its URL, signed (signature.ts).
 * A non-2xx answer, a timeout or a network error is retried with exponential backoff and
 * jitter, up to `webhooks.max_attempts`. Every attempt is written to the job record
 * (`webhook.attempts`, visible in GET /jobs/{id}), and so is the state (pending, delivered,
 * failed), in the job store: a restarted coordinator finds the deliveries still owed among
 * the newest finished jobs (`resume_scan_max`) and carries on where the record says.
 *
 * Fed by the job store's writes (an ObservedJobStore listener): a job's ending is seen
 * exactly once, with the full record, and jobs without a webhook cost one property check.
 */
import type { Clock } from "../../core/clock.ts";
import type { FarmConfig } from "../../core/config/schema.ts";
import { isTerminal, type JobRecord, type JobStatus, type JobWebhook, type WebhookAttempt } from "../../core/job.ts";
import type { Logger } from "../../core/logger.ts";
import type { JobStoreListener } from "../../core/metrics/observed-store.ts";
import type { HostLookup } from "../../core/net/address-policy.ts";
import type { JobStore } from "../job-store.ts";
import { retryDelayMs } from "../retry-backoff.ts";
import { updateJob } from "../state-machine.ts";
import { postOnce, type AttemptResult } from "./delivery.ts";
import { signatureHeader } from "./signature.ts";
import { parseWebhookUrl, vetWebhookTarget } from "./target.ts";

export interface WebhookWorkerDeps {
  /** The store itself (not the observed one): the worker's own writes need no listeners. */
  store: JobStore;
  config: Pick<FarmConfig, "webhooks"> & { api: { auth: Pick<FarmConfig["api"]["auth"], "keys"> } };
  clock: Clock;
  logger: Logger;
  /** The public view of a job (api/job-view.ts's toJobView): the body that is POSTed. */
  view: (job: JobRecord) => unknown;
  /** DNS override (tests). */
  lookup?: HostLookup;
  /** At most this many deliveries in flight (default 16): a burst of endings must not open thousands of sockets. */
  concurrency?: number;
}

export const EVENT_HEADER = "x-farm-event";
export const DELIVERY_HEADER = "x-farm-delivery";
const ERROR_MAX = 300;

export class WebhookWorker implements JobStoreListener {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private running = false;
  private readonly cfg: FarmConfig["webhooks"];
  private readonly concurrency: number;

  constructor(private readonly deps: WebhookWorkerDeps) {
    this.cfg = deps.config.webhooks;
    this.concurrency = deps.concurrency ?? 16;
  }

  /** Resume deliveries still owed (a restart), then take new endings. */
  async start(): Promise<void> {
    this.running = true;
    let resumed = 0;
    for (const status of ["completed", "failed", "cancelled"] as const) {
      let offset = 0;
      while (offset < this.cfg.resume_scan_max) {
        const limit = Math.min(500, this.cfg.resume_scan_max - offset);
        const page = await this.deps.store.list({ status, limit, offset });
        for (const j of page.jobs)
          if (j.webhook?.state === "pending") {
            this.schedule(j.id, Math.max(0, (j.webhook.next_at ?? 0) - this.deps.clock.now()));
            resumed++;
          }
        offset += page.jobs.length;
        if (page.jobs.length < limit) break;
      }
    }
    if (resumed > 0) this.deps.logger.info("webhook deliveries resumed", { count: resumed });
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    await this.idle();
  }

  /** Resolves when no delivery is running (tests, shutdown). */
  idle(): Promise<void> {
    return this.inFlight === 0
      ? Promise.resolve()
      : new Promise((r) => {
          this.idleWaiters.push(r);
        });
  }

  // JobStoreListener: an ending with a webhook owed.
  moved(_from: readonly JobStatus[], rec: JobRecord): void {
    if (rec.webhook?.state === "pending" && isTerminal(rec.status)) this.schedule(rec.id, 0);
  }

  private schedule(jobId: string, delayMs: number): void {
    if (!this.running) return;
    clearTimeout(this.timers.get(jobId));
    const t = setTimeout(() => {
      this.timers.delete(jobId);
      this.enqueue(jobId);
    }, delayMs);
    t.unref();
    this.timers.set(jobId, t);
  }

  private enqueue(jobId: string): void {
    if (!this.running || this.queued.has(jobId)) return;
    this.queued.add(jobId);
    this.queue.push(jobId);
    this.pump();
  }

  private pump(): void {
    while (this.running && this.inFlight < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift()!;
      this.queued.delete(id);
      this.inFlight++;
      this.attempt(id)
        .catch((err: unknown) => this.deps.logger.error("webhook delivery failed unexpectedly", { job_id: id, error: String(err) }))
        .finally(() => {
          this.inFlight--;
          if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
          this.pump();
        });
    }
  }

  /** One attempt for a job: read its current record, POST it, write the attempt and the new state. */
  private async attempt(jobId: string): Promise<void> {
    const job = await this.deps.store.get(jobId);
    const wh = job?.webhook;
    if (!job || !wh || wh.state !== "pending" || !isTerminal(job.status)) return;
    const now = this.deps.clock.now();
    const result = await this.send(job, wh);
    const attempt: WebhookAttempt = { at: now, ms: result.ms };
    if (result.status !== undefined) attempt.status = result.status;
    if (result.error !== undefined) attempt.error = result.error.slice(0, ERROR_MAX);
    const attempts = [...wh.attempts, attempt];
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    const next: JobWebhook = { url: wh.url, state: ok ? "delivered" : attempts.length >= this.cfg.max_attempts ? "failed" : "pending", attempts };
    let delay = 0;
    if (next.state === "pending") {
      delay = retryDelayMs(attempts.length, { retry_backoff_ms: this.cfg.retry_base_ms, retry_backoff_max_ms: this.cfg.retry_max_ms });
      next.next_at = now + delay;
    }
    // The status stays: only the webhook field changes, written while the job is still in
    // that (final) status (a purge meanwhile -> null, nothing owed).
    const saved = await updateJob(this.deps.store, jobId, job.status, { webhook: next });
    if (!saved) return;
    if (next.state === "pending") this.schedule(jobId, delay);
    else if (next.state === "failed")
      this.deps.logger.warn("webhook gave up", { job_id: jobId, attempts: attempts.length, last: result.error ?? `HTTP ${result.status}` });
  }

  private async send(job: JobRecord, wh: JobWebhook): Promise<AttemptResult> {
    const started = performance.now();
    const secret = this.secretFor(job.owner);
    if (!secret) return { error: "no signing secret (webhooks.secret, or webhook_secret of the job's API key)", ms: 0 };
    let url: URL;
    let pinned: { address: string; family: number };
    try {
      url = parseWebhookUrl(wh.url);
      // Checked again at every attempt: the host's addresses may have changed since submit.
      pinned = await vetWebhookTarget(url, {
        allow_private_addresses: this.cfg.allow_private_addresses,
        ...(this.deps.lookup ? { lookup: this.deps.lookup } : {}),
      });
    } catch (err) {
      return { error: (err as Error).message, ms: Math.round(performance.now() - started) };
    }
    const body = JSON.stringify(this.deps.view(job));
    const t = Math.floor(this.deps.clock.now() / 1000);
    return postOnce(
      url,
      pinned,
      body,
      {
        "user-agent": "nano-banana-farm-webhooks/1",
        [EVENT_HEADER]: `job.${job.status}`,
        [DELIVERY_HEADER]: `${job.id}.${wh.attempts.length + 1}`,
        "x-farm-signature": signatureHeader(secret, body, t),
      },
      this.cfg.timeout_ms,
    );
  }

  /** The job's API key's own secret, else the farm's. */
  private secretFor(owner: string | undefined): string | undefined {
    const key = owner !== undefined ? this.deps.config.api.auth.keys.find((k) => k.name === owner) : undefined;
    return key?.webhook_secret ?? this.cfg.secret;
  }
}
