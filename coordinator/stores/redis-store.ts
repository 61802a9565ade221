/**
 * The distributed-mode JobStore on Redis (ioredis 5). Every job state move is one Lua
 * script (lua/*.lua, loaded by redis-scripts.ts), registered with `defineCommand` so it
 * runs by EVALSHA.
 * All keys start with the configured prefix (`redis.prefix`), so several farms (or test
 * runs) can share one Redis. Durability is Redis's own (the farm's scripts start it with
 * appendonly yes).
 */
import { Redis } from "ioredis";
import type { JobRecord, JobStatus } from "../../core/job.ts";
import { JOB_STATUSES, TERMINAL_STATUSES } from "../../core/job.ts";
import type { JobCounts, JobListFilter, JobListPage, JobPatch, JobStore, NodeFailureCount, StoredDecision, TransitionOptions } from "../job-store.ts";
import { decodeRecord, encodeField, encodePatch, encodeRecord, unsetFields } from "./redis-codec.ts";
import * as lua from "./redis-scripts.ts";
import { FENCE_PRELUDE, FENCED_CALL, FencedError, isFenced, type StoreFence } from "./redis-fence.ts";

export interface RedisStoreOptions {
  /** redis:// URL (config `redis.url`), used when `client` is not given. */
  url?: string;
  /** An existing client; the store then does not quit it on close. */
  client?: Redis;
  /** Key prefix (config `redis.prefix`, default "nb:"). */
  prefix?: string;
  /**
   * Leader fencing (coordinator HA): every write carries `fence.epoch()` and is refused
   * inside Redis unless it is the current leader epoch. Absent: writes are not fenced.
   */
  fence?: StoreFence;
}

type Arg = string | number;
type RawJob = [string[], string[]];
interface ScriptCommands {
  nbCreate(...args: Arg[]): Promise<[number, string]>;
  nbTransition(...args: Arg[]): Promise<RawJob | null>;
  nbProgress(...args: Arg[]): Promise<number>;
  nbRenew(...args: Arg[]): Promise<number>;
  nbGetMany(...args: Arg[]): Promise<RawJob[]>;
  nbNodeFailure(...args: Arg[]): Promise<number>;
  nbPurge(...args: Arg[]): Promise<number>;
  nbListOwned(...args: Arg[]): Promise<[string[], number]>;
  nbBackfillOwners(...args: Arg[]): Promise<number>;
  nbFencedCall(...args: Arg[]): Promise<unknown>;
}

/** Scripts that write: they run behind the leader fence. */
const WRITES = new Set<keyof ScriptCommands>([
  "nbCreate",
  "nbTransition",
  "nbProgress",
  "nbRenew",
  "nbNodeFailure",
  "nbPurge",
  "nbBackfillOwners",
  "nbFencedCall",
]);

const failField = (node: string, type: string) => `${node}\u0000${type}`;

export class RedisJobStore implements JobStore {
  private readonly redis: Redis;
  private readonly cmd: ScriptCommands;
  private readonly p: string;
  private readonly owned: boolean;
  /** Set once this store has checked (and if need be built) the owner index; see ensureOwnerIndex. */
  private ownerIndex: Promise<void> | undefined;

  constructor(opts: RedisStoreOptions) {
    this.p = opts.prefix ?? "nb:";
    this.owned = !opts.client;
    this.redis = opts.client ?? new Redis(opts.url ?? "redis://127.0.0.1:6379", { enableAutoPipelining: true, maxRetriesPerRequest: 3 });
    const defs: [keyof ScriptCommands, lua.ScriptDef][] = [
      ["nbCreate", lua.CREATE],
      ["nbTransition", lua.TRANSITION],
      ["nbProgress", lua.PROGRESS],
      ["nbRenew", lua.RENEW],
      ["nbGetMany", lua.GET_MANY],
      ["nbNodeFailure", lua.NODE_FAILURE],
      ["nbPurge", lua.PURGE],
      ["nbListOwned", lua.LIST_OWNED],
      ["nbBackfillOwners", lua.BACKFILL_OWNERS],
      ["nbFencedCall", { lua: FENCED_CALL, keys: 0 }],
    ];
    const fence = opts.fence;
    const raw = this.redis as unknown as Record<string, (...a: Arg[]) => Promise<unknown>>;
    const cmd: Partial<Record<keyof ScriptCommands, (...a: Arg[]) => Promise<unknown>>> = {};
    for (const [name, { lua: src, keys }] of defs) {
      const write = WRITES.has(name);
      // FENCED_CALL carries its own prelude; the other write scripts get it here.
      this.redis.defineCommand(name, {
        ...(keys !== undefined ? { numberOfKeys: keys } : {}),
        lua: write && name !== "nbFencedCall" ? FENCE_PRELUDE + src : src,
      });
      const nKeys = keys ?? 0; // writes declare a fixed count
      cmd[name] = !write
        ? (...a) => raw[name]!.call(this.redis, ...a)
        : async (...a) => {
            const epoch = fence ? fence.epoch() : "";
            if (epoch === null) throw this.fenced(new FencedError("FENCED this coordinator does not lead: write refused"));
            try {
              // The epoch is the first ARGV, after the declared KEYS.
              return await raw[name]!.call(this.redis, ...a.slice(0, nKeys), epoch ?? "", ...a.slice(nKeys));
            } catch (err) {
              throw isFenced(err) ? this.fenced(new FencedError((err as Error).message)) : err;
            }
          };
    }
    this.cmd = cmd as unknown as ScriptCommands;
    this.fence = fence;
  }

  private readonly fence: StoreFence | undefined;

  private fenced(err: FencedError): FencedError {
    this.fence?.onFenced?.(err);
    return err;
  }

  async create(job: JobRecord): Promise<{ job: JobRecord; created: boolean }> {
    const hist = job.history.map((h) => JSON.stringify(h));
    const p = this.p;
    const [created, id] = await this.cmd.nbCreate(
      `${p}job:${job.id}`,
      `${p}hist:${job.id}`,
      `${p}idem:${job.idempotency_key ?? ""}`,
      `${p}all`,
      `${p}t:${job.type}`,
      `${p}${job.owner ? `o:${job.owner}` : "uo"}`,
      `${p}types`,
      p,
      job.id,
      job.idempotency_key ?? "",
      job.type,
      job.status,
      job.created_at,
      job.priority,
      hist.length,
      ...hist,
      ...encodeRecord(job),
    );
    if (created === 1) return { job: structuredClone(job), created: true };
    const existing = await this.get(id);
    if (!existing) throw new Error(`idempotency key '${job.idempotency_key ?? ""}' points at missing job '${id}'`);
    return { job: existing, created: false };
  }

  async get(id: string): Promise<JobRecord | null> {
    return (await this.getMany([id]))[0] ?? null;
  }

  async findByIdempotencyKey(key: string): Promise<JobRecord | null> {
    const id = await this.redis.get(`${this.p}idem:${key}`);
    return id ? this.get(id) : null;
  }

  async list(f: JobListFilter): Promise<JobListPage> {
    const key =
      f.status !== undefined && f.type !== undefined
        ? `st:${f.status}:${f.type}`
        : f.status !== undefined
          ? `s:${f.status}`
          : f.type !== undefined
            ? `t:${f.type}`
            : "all";
    if (f.owner !== undefined) {
      // Owner index ('' and absent owners share the unowned set), intersected with the
      // status/type index inside one script: see LIST_OWNED.
      await this.ensureOwnerIndex();
      const okey = f.owner ? `o:${f.owner}` : "uo";
      const [ids, total] = await this.cmd.nbListOwned(
        this.p + okey,
        this.p + key,
        `${this.p}tmp:list`,
        key === "all" ? "" : "1",
        f.offset,
        f.offset + f.limit - 1,
      );
      return { jobs: await this.getMany(ids), total: Number(total) };
    }
    const [ids, total] = await Promise.all([this.redis.zrevrange(this.p + key, f.offset, f.offset + f.limit - 1), this.redis.zcard(this.p + key)]);
    return { jobs: await this.getMany(ids), total };
  }

  async transition(id: string, from: readonly JobStatus[], patch: JobPatch, opts: TransitionOptions = {}): Promise<JobRecord | null> {
    const { sets, unsets } = encodePatch(patch);
    unsets.push(...unsetFields(opts.unset ?? []));
    const raw = await this.cmd.nbTransition(
      `${this.p}job:${id}`,
      `${this.p}hist:${id}`,
      this.p,
      id,
      `,${from.join(",")},`,
      opts.leaseToken ?? "",
      opts.grantLease?.node_id ?? "",
      opts.grantLease?.expires_at ?? 0,
      opts.history ? JSON.stringify(opts.history) : "",
      unsets.length,
      ...unsets,
      ...sets,
    );
    return raw ? decodeRecord(raw[0], raw[1]) : null;
  }

  async updateProgress(id: string, token: number, progress: number, message: string | undefined, at: number): Promise<boolean> {
    const msg = message === undefined ? "" : encodeField("message", message);
    return (await this.cmd.nbProgress(`${this.p}job:${id}`, this.p, token, encodeField("progress", progress), encodeField("updated_at", at), msg)) === 1;
  }

  async renewLease(id: string, token: number, expires_at: number): Promise<boolean> {
    return (await this.cmd.nbRenew(`${this.p}job:${id}`, this.p, token, expires_at)) === 1;
  }

  async pending(limit = -1): Promise<JobRecord[]> {
    const ids = await this.redis.zrange(`${this.p}pending`, 0, limit < 0 ? -1 : limit - 1);
    return this.getMany(ids);
  }

  async running(): Promise<JobRecord[]> {
    return this.getMany(await this.redis.zrange(`${this.p}s:running`, 0, -1));
  }

  async counts(): Promise<JobCounts> {
    const types = await this.redis.smembers(`${this.p}types`);
    const pipe = this.redis.pipeline();
    for (const t of types) for (const s of JOB_STATUSES) pipe.zcard(`${this.p}st:${s}:${t}`);
    const res = (await pipe.exec()) ?? [];
    const out: JobCounts = {};
    let i = 0;
    for (const t of types) {
      const row: Partial<Record<JobStatus, number>> = {};
      for (const s of JOB_STATUSES) {
        const [err, n] = res[i++] ?? [null, 0];
        if (err) throw err;
        if (typeof n === "number" && n > 0) row[s] = n;
      }
      out[t] = row;
    }
    return out;
  }

  async recordNodeFailure(nodeId: string, type: string, reason: string, at: number): Promise<number> {
    return this.cmd.nbNodeFailure(`${this.p}nfc`, `${this.p}nfr`, this.p, failField(nodeId, type), JSON.stringify({ last_reason: reason, at }));
  }

  async nodeFailures(): Promise<NodeFailureCount[]> {
    const [counts, reasons] = await Promise.all([this.redis.hgetall(`${this.p}nfc`), this.redis.hgetall(`${this.p}nfr`)]);
    return Object.entries(counts).map(([f, n]) => {
      const [node_id = "", type = ""] = f.split("\u0000");
      const r = JSON.parse(reasons[f] ?? '{"last_reason":"","at":0}') as { last_reason: string; at: number };
      return { node_id, type, count: Number(n), last_reason: r.last_reason, at: r.at };
    });
  }

  async clearNodeFailures(nodeId: string, type?: string): Promise<void> {
    const fields = type !== undefined ? [failField(nodeId, type)] : (await this.redis.hkeys(`${this.p}nfc`)).filter((f) => f.startsWith(`${nodeId}\u0000`));
    if (fields.length === 0) return;
    await this.cmd.nbFencedCall(this.p, "HDEL", `${this.p}nfc`, ...fields);
    await this.cmd.nbFencedCall(this.p, "HDEL", `${this.p}nfr`, ...fields);
  }

  async saveDecision(d: StoredDecision): Promise<void> {
    await this.cmd.nbFencedCall(this.p, "SET", `${this.p}dec:${d.job_id}`, JSON.stringify(d));
  }

  async getDecision(jobId: string): Promise<StoredDecision | null> {
    const v = await this.redis.get(`${this.p}dec:${jobId}`);
    return v ? (JSON.parse(v) as StoredDecision) : null;
  }

  async purge(before: number): Promise<number> {
    const BATCH = 500; // bounded work per script call, so Redis is never blocked for long
    let total = 0;
    for (;;) {
      const n = await this.cmd.nbPurge(this.p, before, BATCH, ...TERMINAL_STATUSES);
      total += n;
      if (n < BATCH) return total;
    }
  }

  async close(): Promise<void> {
    if (this.owned && this.redis.status !== "end") await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /**
   * Jobs written before the owner index existed (older farm versions) are in no owner set.
   * The first owner-filtered listing of a store indexes them once: SCAN over the job
   * hashes (SCAN returns every key present for the whole walk; jobs created meanwhile index
   * themselves), in batches so Redis is never blocked long; then `P ov` marks the prefix as
   * done so later stores skip this. An empty farm is marked at once.
   */
  private ensureOwnerIndex(): Promise<void> {
    this.ownerIndex ??= this.backfillOwners().catch((err: unknown) => {
      this.ownerIndex = undefined; // try again on the next listing
      throw err;
    });
    return this.ownerIndex;
  }

  private async backfillOwners(): Promise<void> {
    const marker = `${this.p}ov`;
    if ((await this.redis.exists(marker)) === 1) return;
    if ((await this.redis.zcard(`${this.p}all`)) > 0) {
      const jobPrefix = `${this.p}job:`;
      const stream = this.redis.scanStream({ match: `${globEscape(jobPrefix)}*`, count: 1000 });
      for await (const keys of stream as AsyncIterable<string[]>) {
        if (keys.length > 0) await this.cmd.nbBackfillOwners(this.p, ...keys.map((k) => k.slice(jobPrefix.length)));
      }
    }
    await this.cmd.nbFencedCall(this.p, "SET", marker, "1");
  }

  private async getMany(ids: readonly string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const out: JobRecord[] = [];
    // Chunked so one script call never carries an unbounded argument list.
    for (let i = 0; i < ids.length; i += 500) {
      const keys = ids.slice(i, i + 500).flatMap((id) => [`${this.p}job:${id}`, `${this.p}hist:${id}`]);
      const raws = await this.cmd.nbGetMany(keys.length, ...keys);
      for (const [flat, hist] of raws) {
        const rec = decodeRecord(flat, hist);
        if (rec) out.push(rec);
      }
    }
    return out;
  }
}

/** Escape Redis glob characters so a prefix matches only itself in SCAN MATCH. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
