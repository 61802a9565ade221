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
import type { AgentReporter, DispatchTask } from "../core/mesh-contract.ts";
import type { Logger } from "../core/logger.ts";
import { toFarmError } from "../core/errors.ts";
import type { Agent } from "../node-agent/agent.ts";

const FINAL_CODES = new Set(["STALE_LEASE", "NOT_FOUND", "CONFLICT", "VALIDATION_ERROR"]);

async function callWithRetry(broker: Broker, action: string, params: object, logger: Logger, giveUpAfterMs: number): Promise<void> {
  const deadline = Date.now() + giveUpAfterMs;
  let delay = 100;
  for (;;) {
    try {
      await broker.call(action, params);
      return;
    } catch (err) {
      const fe = toFarmError(err);
      if (FINAL_CODES.has(fe.code)) {
        logger.warn(`${action} rejected`, { code: fe.code, message: fe.message });
        return;
      }
      if (Date.now() > deadline) {
        logger.error(`${action} gave up`, { code: fe.code, message: fe.message });
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
}

export function meshReporter(broker: Broker, logger: Logger, hooks: ReporterHooks = {}, retryForMs = 10 * 60_000): AgentReporter {
  return {
    progress: async (r) => {
      // Progress is best effort: a lost update is replaced by the next one. A stale
      // lease means another node owns the job now, so this one aborts its copy.
      await broker.call("coordinator.progress", r).catch((err: unknown) => {
        if (toFarmError(err).code === "STALE_LEASE") hooks.onStale?.(r.job_id, r.token);
      });
    },
    completed: (r) => callWithRetry(broker, "coordinator.completed", r, logger, retryForMs),
    failed: (r) => callWithRetry(broker, "coordinator.failed", r, logger, retryForMs),
    heartbeat: async (r) => {
      await broker.call("coordinator.heartbeat", r).catch((err: unknown) => logger.debug("heartbeat not delivered", { err: String(err) }));
    },
  };
}

export function agentService(agent: Agent): ServiceSchema {
  return {
    name: "agent",
    actions: {
      start: (ctx: Context<unknown>) => agent.startTask(ctx.params as DispatchTask),
      cancel: (ctx: Context<unknown>) => {
        const { job_id, token } = ctx.params as { job_id: string; token: number };
        return agent.cancelTask(job_id, token);
      },
      report: () => agent.report(),
    },
    events: {
      // A (re)started coordinator has an empty node registry: answer with a heartbeat now
      // instead of waiting for the next telemetry tick.
      "coordinator.started"() {
        void agent.heartbeatNow();
      },
      // Covers the race where the coordinator's broadcast went out before it knew this node.
      "$node.connected"() {
        void agent.heartbeatNow();
      },
    },
  };
}
