/**
 * diag's param bounds, declared once: the manifest turns them into each job type's param
 * schema (checked by the coordinator at submit: `seconds: -1` is a 400 there, not a job
 * that fails later), and run() reads params with the same numbers (a job submitted before
 * an agent advertised the schema, or sent straight over the mesh, is still checked).
 */
import type { ParamSchema } from "../../core/plugin-contract.ts";

export const SLEEP_SECONDS = { min: 0, max: 3600 } as const;
export const SLEEP_STEPS = { min: 1, max: 10_000 } as const;
/** diag.sleep's block_ms: how long it holds the agent's main thread (a long synchronous plugin step). */
export const BLOCK_MS = { min: 0, max: 60_000 } as const;
export const FAIL_TIMES = { min: 0, max: 1000 } as const;
export const MESSAGE_MAX = 2000;
export const CODE_MAX = 64;

const nullable = (s: Record<string, unknown>) => ({ ...s, type: [s.type as string, "null"] });
const seconds = nullable({ type: "number", minimum: SLEEP_SECONDS.min, maximum: SLEEP_SECONDS.max });

/** Params are open objects (diag.echo returns whatever it gets); only the named fields are bounded. */
export const PARAM_SCHEMAS: Record<"diag.sleep" | "diag.fail" | "diag.gpu", ParamSchema> = {
  "diag.sleep": {
    type: "object",
    properties: {
      seconds,
      steps: nullable({ type: "integer", minimum: SLEEP_STEPS.min, maximum: SLEEP_STEPS.max }),
      child: nullable({ type: "boolean" }),
      block_ms: nullable({ type: "integer", minimum: BLOCK_MS.min, maximum: BLOCK_MS.max }),
    },
  },
  "diag.fail": {
    type: "object",
    properties: {
      message: nullable({ type: "string", maxLength: MESSAGE_MAX }),
      code: nullable({ type: "string", maxLength: CODE_MAX }),
      retryable: nullable({ type: "boolean" }),
      fail_times: nullable({ type: "integer", minimum: FAIL_TIMES.min, maximum: FAIL_TIMES.max }),
    },
  },
  "diag.gpu": { type: "object", properties: { seconds } },
};
