/**
 * WS /ws/{job_id}: the spec's progress / completed / error messages. A client that
 * connects late first receives the current state, and a finished job's final message.
 */
import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import type { ApiDeps } from "../deps.ts";
import { isTerminal, type JobEvent, type JobRecord } from "../../core/job.ts";
import { ownedJob } from "../auth.ts";
import { toFarmError } from "../../core/errors.ts";
import { wholeProgress } from "../job-view.ts";

const iso = (t: number) => new Date(t).toISOString();

export function wsMessage(e: JobEvent): Record<string, unknown> | null {
  switch (e.type) {
    case "progress":
      return { type: "progress", job_id: e.job_id, progress: wholeProgress(e.progress), message: e.message ?? "", timestamp: iso(e.at) };
    case "status":
      return { type: "status", job_id: e.job_id, status: e.status, timestamp: iso(e.at) };
    case "completed":
      return { type: "completed", job_id: e.job_id, result: e.result, timestamp: iso(e.at) };
    case "error":
      return {
        type: "error",
        job_id: e.job_id,
        status: e.status,
        error: e.error.message,
        code: e.error.code,
        details: e.error.details ?? null,
        timestamp: iso(e.at),
      };
  }
}

/**
 * The messages that describe a job's current state, for a client that connects late: one
 * `status` message (with progress and message, so a running job needs no second `progress`
 * message for the same step), then a finished job's final message.
 */
export function snapshotMessages(job: JobRecord): Record<string, unknown>[] {
  const at = job.updated_at;
  const msgs: Record<string, unknown>[] = [
    { type: "status", job_id: job.id, status: job.status, progress: wholeProgress(job.progress), message: job.message ?? "", timestamp: iso(at) },
  ];
  if (job.status === "completed") msgs.push({ type: "completed", job_id: job.id, result: job.result ?? {}, timestamp: iso(at) });
  if (job.status === "failed" || job.status === "cancelled") {
    msgs.push({
      type: "error",
      job_id: job.id,
      status: job.status,
      error: job.error?.message ?? job.status,
      code: job.error?.code ?? null,
      details: job.error?.details ?? null,
      timestamp: iso(at),
    });
  }
  return msgs;
}

export async function wsRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { job_id: string } }>(
    "/ws/:job_id",
    {
      websocket: true,
      schema: {
        tags: ["jobs"],
        summary: "Live job progress (WebSocket)",
        description:
          "Upgrade to a WebSocket (with auth on: Authorization/X-API-Key header, or ?api_key= from a browser). Messages: status, progress {progress, message}, then completed {result} or error {error, code, details}; the server closes after the final message.",
        params: { type: "object", properties: { job_id: { type: "string", maxLength: 100 } } },
        querystring: { type: "object", properties: { api_key: { type: "string" } } },
      },
    },
    (socket: WebSocket, req) => {
      const jobId = req.params.job_id;
      // Results carry /outputs/... paths: signed here as the JSON serializer signs them elsewhere.
      const send = (m: Record<string, unknown>) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(app.outputLinks.signAll(m)));
      };
      let finished = false;
      const buffered: JobEvent[] = [];
      let ready = false;
      const unsubscribe = deps.farm.events.subscribe(jobId, (e) => {
        if (!ready) return void buffered.push(e);
        deliver(e);
      });
      const deliver = (e: JobEvent) => {
        if (finished) return;
        const m = wsMessage(e);
        if (m) send(m);
        if (e.type === "completed" || e.type === "error") finish();
      };
      const finish = () => {
        finished = true;
        unsubscribe();
        // Let the final message flush before closing.
        setTimeout(() => socket.close(1000, "job finished"), 50);
      };
      socket.on("close", () => unsubscribe());
      socket.on("error", () => unsubscribe());
      ownedJob(deps.farm, req.principal, jobId)
        .then((job) => {
          for (const m of snapshotMessages(job)) send(m);
          ready = true;
          if (isTerminal(job.status)) return finish();
          for (const e of buffered.splice(0)) if (e.at >= job.updated_at) deliver(e);
        })
        .catch((err: unknown) => {
          const fe = toFarmError(err);
          send({ type: "error", job_id: jobId, error: fe.message, code: fe.code, details: fe.details ?? null, timestamp: new Date().toISOString() });
          finished = true;
          unsubscribe();
          socket.close(1008, fe.code);
        });
    },
  );
}
