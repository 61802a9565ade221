/**
 * The coordinator's in-memory table of granted leases (one per running job). Reports are
 * checked against it before the store is touched, the sweep scans it for expiry (O(running),
 * never O(queue)), and heartbeats renew it. The store keeps the durable copy; to spare a
 * store write per heartbeat, the durable expiry is pushed only when it falls behind by
 * more than half a lease.
 */
import type { JobRecord, JobRequirements } from "../core/job.ts";

export interface LeaseEntry {
  job_id: string;
  type: string;
  node_id: string;
  token: number;
  expires_at: number;
  /** Expiry last written to the store. */
  persisted_expires_at: number;
  gpu_index: number | null;
  requirements: JobRequirements;
  attempts: number;
  max_attempts: number;
  failed_on: string[];
  priority: number;
  created_at: number;
  cancel_requested: boolean;
  /** The API key that submitted the job (absent: no owner), for queue policies. */
  owner?: string;
}

export class LeaseTable {
  private readonly byJob = new Map<string, LeaseEntry>();

  get size(): number {
    return this.byJob.size;
  }

  get(jobId: string): LeaseEntry | undefined {
    return this.byJob.get(jobId);
  }

  /** The lease of `jobId` if `token` is current. */
  current(jobId: string, token: number): LeaseEntry | undefined {
    const l = this.byJob.get(jobId);
    return l && l.token === token ? l : undefined;
  }

  set(l: LeaseEntry): void {
    this.byJob.set(l.job_id, l);
  }

  delete(jobId: string, token: number): boolean {
    const l = this.byJob.get(jobId);
    if (!l || l.token !== token) return false;
    this.byJob.delete(jobId);
    return true;
  }

  expired(now: number): LeaseEntry[] {
    const out: LeaseEntry[] = [];
    for (const l of this.byJob.values()) if (l.expires_at <= now) out.push(l);
    return out;
  }

  onNode(nodeId: string): LeaseEntry[] {
    const out: LeaseEntry[] = [];
    for (const l of this.byJob.values()) if (l.node_id === nodeId) out.push(l);
    return out;
  }

  all(): LeaseEntry[] {
    return [...this.byJob.values()];
  }
}

/**
 * The lease entry of a stored running job, the one place such an entry is built: at grant
 * (with the GPU the scheduler chose) and at restart recovery (`gpu_index` null: the
 * placement is not stored). Undefined when the record holds no lease.
 */
export function leaseEntry(j: JobRecord, gpu_index: number | null): LeaseEntry | undefined {
  if (!j.lease) return undefined;
  const l: LeaseEntry = {
    job_id: j.id,
    type: j.type,
    node_id: j.lease.node_id,
    token: j.lease.token,
    expires_at: j.lease.expires_at,
    persisted_expires_at: j.lease.expires_at,
    gpu_index,
    requirements: j.requirements,
    attempts: j.attempts,
    max_attempts: j.max_attempts,
    failed_on: j.failed_on ?? [],
    priority: j.priority,
    created_at: j.created_at,
    cancel_requested: j.cancel_requested === true,
  };
  if (j.owner !== undefined) l.owner = j.owner;
  return l;
}
