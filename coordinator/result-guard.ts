/**
 * Whose report is this? A lease is granted to one node; only that node may report the job's
 * progress, result or failure. The fencing token alone does not say so: tokens count up per
 * job (1, 2, ...), so a rogue mesh node could guess one, or read it off an open mesh, and
 * forge a result that the API would then serve (issue 18 item 1). The mesh layer stamps
 * each report with the node id of the mesh connection that sent it (mesh/coordinator-service.ts),
 * not the id the payload claims, and the outcome handler checks it against the lease here.
 */
import type { LeaseEntry, LeaseTable } from "./lease-table.ts";

/** The current lease for (job, token) when `nodeId` holds it; otherwise undefined (a stale report). */
export function heldLease(leases: LeaseTable, jobId: string, token: number, nodeId: unknown): LeaseEntry | undefined {
  const l = leases.current(jobId, token);
  return l && l.node_id === nodeId ? l : undefined;
}

/**
 * A report as it arrived over the mesh, with `node_id` replaced by the sender's mesh node id.
 * Moleculer puts the sending node's id on the context (`ctx.nodeID`), taken from the packet's
 * sender field: on a mesh that only authenticated farm processes can join, that is who sent it.
 */
export function fromSender<T extends object>(report: T, senderNodeId: string | null | undefined): T & { node_id: string } {
  return { ...report, node_id: String(senderNodeId ?? "") };
}
