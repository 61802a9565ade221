/**
 * Response schemas of the operator routes (farm status, nodes, drain, why), for the OpenAPI
 * document. Every object keeps additionalProperties: true: Fastify serialises responses
 * through these schemas and would silently drop any field not listed, and these views grow
 * with the coordinator (new telemetry, new reasons) faster than the docs.
 */
const open = (properties: Record<string, unknown>, description?: string) =>
  ({ type: "object", additionalProperties: true, properties, ...(description ? { description } : {}) }) as const;

const gpu = open({
  index: { type: "integer" },
  name: { type: "string" },
  memory_total_mb: { type: "number" },
  memory_used_mb: { type: "number" },
  utilization_pct: { type: ["number", "null"] },
  temperature_c: { type: ["number", "null"] },
  simulated: { type: "boolean" },
});

const nodeReport = open(
  {
    node_id: { type: "string" },
    hostname: { type: "string" },
    draining: { type: "boolean" },
    job_types: { type: "array", items: { type: "string" } },
    models: { type: "object", additionalProperties: { type: "array", items: { type: "string" } }, description: "job type -> models this node can load" },
    model_vram: { type: "object", additionalProperties: { type: "number" }, description: "model -> VRAM need (MiB)" },
    unavailable_models: {
      type: "array",
      description: "models a plugin here declares but cannot run now, and why (missing weights, a ComfyUI instance that lacks them or is down)",
      items: open({ plugin: { type: "string" }, model_id: { type: "string" }, missing: { type: "array", items: { type: "string" } } }),
    },
    gpus: { type: "array", items: gpu },
    resident: { type: "array", items: { type: "object", additionalProperties: true } },
    running_jobs: { type: "array", items: { type: "string" } },
    max_concurrent_jobs: { type: "integer" },
  },
  "The agent's latest heartbeat report",
);

export const nodeStatusSchema = open({
  node_id: { type: "string" },
  report: nodeReport,
  draining: { type: "boolean" },
  blocklisted: { type: "object", additionalProperties: { type: "string" }, description: "job type -> why the node is blocklisted for it" },
  running_jobs: { type: "array", items: { type: "string" } },
  unavailable: { type: "string", description: "why the scheduler skips the node for now" },
  last_seen: { type: "number", description: "epoch ms of the last heartbeat" },
});

export const nodesSchema = open({ nodes: { type: "array", items: nodeStatusSchema } });

export const farmStatusSchema = open({
  nodes: { type: "array", items: nodeStatusSchema },
  running: {
    type: "array",
    items: open({
      job_id: { type: ["string", "null"], description: "null for a read key: job ids are shown to admins only" },
      type: { type: "string" },
      node_id: { type: "string" },
      gpu_index: { type: ["integer", "null"] },
      attempts: { type: "integer" },
    }),
  },
  queue: { type: "object", additionalProperties: true, description: "job type -> queued jobs" },
  counts: { type: "object", additionalProperties: true, description: "status -> jobs in the store" },
});

export const whySchema = open({
  job_id: { type: "string" },
  type: { type: "string" },
  status: { type: "string" },
  node_id: { type: "string" },
  attempts: { type: "integer" },
  max_attempts: { type: "integer" },
  requirements: { type: "object", additionalProperties: true },
  failed_on: { type: "array", items: { type: "string" } },
  decision: { type: ["object", "null"], additionalProperties: true, description: "the scheduler's last decision with per-node reasons" },
  current: { type: "object", additionalProperties: true, description: "for a pending job: what the scheduler would decide now" },
  history: { type: "array", items: { type: "object", additionalProperties: true } },
});
