/**
 * What a non-admin key sees of the farm: the same status and nodes, without other keys' job
 * ids. Job ids were listed to every read key (running jobs, each node's running_jobs), and a
 * job id is what fetches a job's outputs. Admins (and everyone with auth off) see them all.
 */
import type { Principal } from "./auth.ts";

const isAdmin = (p: Principal) => p.scopes.has("admin");

type Obj = Record<string, unknown>;

function redactNode(n: Obj): Obj {
  const out: Obj = { ...n };
  if (Array.isArray(n.running_jobs)) {
    out.running_jobs = [];
    out.running_count = n.running_jobs.length;
  }
  if (n.report && typeof n.report === "object") out.report = redactNode(n.report as Obj);
  return out;
}

export function nodesFor(principal: Principal, nodes: Obj[]): Obj[] {
  return isAdmin(principal) ? nodes : nodes.map(redactNode);
}

export function statusFor(principal: Principal, status: Obj): Obj {
  if (isAdmin(principal)) return status;
  const out: Obj = { ...status };
  if (Array.isArray(status.nodes)) out.nodes = (status.nodes as Obj[]).map(redactNode);
  if (Array.isArray(status.running)) {
    out.running = (status.running as Obj[]).map(({ job_id: _id, token: _t, ...rest }) => ({ ...rest, job_id: null }));
  }
  return out;
}
