/** What the scheduler knows about a node: its last report plus the coordinator's own view. */
import type { NodeReport } from "../core/telemetry.ts";

export interface NodeView {
  /** The agent's latest heartbeat/capability report. Treated as immutable. */
  report: NodeReport;
  /** Drained by an operator (or the agent reports draining): takes no new work. */
  draining: boolean;
  /** job type -> why this node is blocklisted for it. */
  blocklisted: ReadonlyMap<string, string>;
  /** Jobs the coordinator has leased to this node and not yet seen finish. */
  running: number;
  /**
   * Models the coordinator placed on each GPU for jobs still running (gpu index -> model
   * id -> job count). Between heartbeats these are not yet in `report.resident`, so the
   * scheduler reserves their VRAM and never counts them as evictable.
   */
  assigned?: ReadonlyMap<number, ReadonlyMap<string, number>>;
  /** Set when the node must be skipped for now (e.g. it refused a dispatch); the text is the reason. */
  unavailable?: string;
}
