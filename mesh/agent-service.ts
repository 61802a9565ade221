/**
 * The agent role on the mesh: a Moleculer service around the transport-free Agent class,
 * and the reporter the agent uses to talk back to the coordinator.
 *
 * Completion and failure reports are retried with backoff until the coordinator answers
 * (a restarting coordinator must not lose a finished job); a STALE_LEASE or NOT_FOUND
 * answer ends the retries, since the job belongs to someone else now.
 */
import type { ServiceSchema, Context } from "moleculer";
import type { Broker } from "./broker.ts";
import type { AgentReport, AgentReporter, DispatchTask } from "../core/mesh-contract.ts";
import type { Logger } from "../core/logger.ts";
import { toFarmError } from "../core/errors.ts";
import type { Agent } from "../node-agent/agent.ts";
import { TickBatcher, settleBatch } from "./tick-batch.ts";

const FINAL_CODES = new Set(["STALE_LEASE", "NOT_FOUND", "CONFLICT", "VALIDATION_ERROR"]);

/** Sends `r` (through `send`) until it is delivered, answered with a final code, or `giveUpAfterMs` passed. */
async function sendWithRetry(send: () => Promise<unknown>, what: string, logger: Logger, giveUpAfterMs: number): Promise<void> {
  const deadline = Date.now() + giveUpAfterMs;
  let delay = 100;
  for (;;) {
    try {
      await send();
      return;
    } catch (err) {
      const fe = toFarmError(err);
      if (FINAL_CODES.has(fe.code)) {
        logger.warn(`${what} rejected`, { code: fe.code, message: fe.message });
        return;
      }
      if (Date.now() > deadline) {
        logger.error(`${what} gave up`, { code: fe.code, message: fe.message });
        return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}

export interface ReporterHooks {
  /** The coordinator re-granted this job's lease elsewhere: stop working on it. */
  onStale?: (jobId: string, token: number) => void;
  /** A heartbeat's answer named the leader's epoch (HA): an agent that missed `coordinator.started` learns it here. */
  onLeaderEpoch?: (epoch: number) => void;
}

export function meshReporter(broker: Broker, logger: Logger, hooks: ReporterHooks = {}, retryForMs = 10 * 60_000): AgentReporter {
  // Outcomes finished within one turn go to the coordinator as one `reportMany`; each
  // item is retried on its own (a retry rides in whatever batch is forming then).
  const reports = new TickBatcher<AgentReport, unknown>((items) => broker.call("coordinator.reportMany", { items }));
  return {
    progress: async (r) => {
      // Progress is best effort: a lost update is replaced by the next one. A stale
      // lease means another node owns the job now, so this one aborts its copy.
      await broker.call("coordinator.progress", r).catch((err: unknown) => {
        if (toFarmError(err).code === "STALE_LEASE") hooks.onStale?.(r.job_id, r.token);
      });
    },
    completed: (r) => sendWithRetry(() => reports.add({ kind: "completed", ...r }), "completion report", logger, retryForMs),
    failed: (r) => sendWithRetry(() => reports.add({ kind: "failed", ...r }), "failure report", logger, retryForMs),
    heartbeat: async (r) => {
      // The answer lists leases this node holds that are no longer its own (it was silent
      // past their expiry and the jobs run elsewhere now): drop that work.
      const answer = (await broker.call("coordinator.heartbeat", r).catch((err: unknown) => logger.debug("heartbeat not delivered", { err: String(err) }))) as
        { stale?: { job_id: string; token: number }[]; leader_epoch?: number } | undefined;
      if (typeof answer?.leader_epoch === "number") hooks.onLeaderEpoch?.(answer.leader_epoch);
      for (const s of answer?.stale ?? []) {
        logger.warn("lease lost while silent: dropping the job", { job_id: s.job_id, token: s.token });
        hooks.onStale?.(s.job_id, s.token);
      }
    },
  };
}

/** The nodes offering `coordinator.heartbeat` in a broker's registry (Moleculer 0.14 internals, not in its typings). */
function coordinatorNodes(broker: unknown): Set<string> {
  const registry = (broker as { registry: { getActionEndpoints(action: string): { endpoints: { id: string }[] } | undefined } }).registry;
  return new Set((registry.getActionEndpoints("coordinator.heartbeat")?.endpoints ?? []).map((e) => e.id));
}

export function agentService(agent: Agent): ServiceSchema {
  let known = new Set<string>();
  return {
    name: "agent",
    actions: {
      // The coordinator's starts of one turn for this agent (tick-batch.ts): one reply per task.
      startMany: (ctx: Context<unknown>) => settleBatch((ctx.params as { items: unknown }).items, (t: DispatchTask) => agent.startTask(t)),
      cancel: (ctx: Context<unknown>) => {
        const { job_id, token } = ctx.params as { job_id: string; token: number };
        return agent.cancelTask(job_id, token);
      },
      report: () => agent.report(),
    },
    events: {
      // A (re)started coordinator has an empty node registry: answer with a heartbeat now
      // instead of waiting for the next telemetry tick.
      "coordinator.started"(ctx: Context<unknown>) {
        // Noted before the report is built: the report then vouches that no older leader's dispatch starts here any more.
        agent.noteLeaderEpoch((ctx.params as { epoch?: unknown } | undefined)?.epoch, true);
        void agent.heartbeatNow();
      },
      // Covers the race where the coordinator's broadcast went out before it knew this node.
      "$node.connected"() {
        void agent.heartbeatNow();
      },
      // A newly elected coordinator (HA) announced its service: report to it at once, whichever
      // of its INFO and its `coordinator.started` broadcast arrived first; its node registry
      // is empty, and until it hears from us it refuses jobs ("no nodes connected").
      "$services.changed"(this: { broker: unknown }, ctx: Context<unknown>) {
        // Our own services (and an embedded coordinator's) change at start, before the agent has probed its GPUs.
        if ((ctx.params as { localService?: boolean }).localService) return;
        const now = coordinatorNodes(this.broker);
        const added = [...now].some((id) => !known.has(id));
        known = now;
        if (added) void agent.heartbeatNow();
      },
    },
  };
}
