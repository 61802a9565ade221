/**
 * diag's job types, defined once (core/job-types/define.ts): the params schemas the
 * manifest advertises (the coordinator checks them at submit: `seconds: -1` is a 400 there,
 * not a job that fails later) and run() parses with (a job sent straight over the mesh is
 * checked too), with the weightless models of diag.gpu. Pure data.
 *
 * Params are open objects (diag.echo returns whatever it gets); only the named fields are
 * bounded, and each may be null (= absent, its default), as before the schemas existed.
 */
import { Type, type TSchema } from "typebox";
import { defineJobType } from "../../core/job-types/define.ts";
import type { JobTypeSpec } from "../../core/plugin-contract.ts";

export const DIAG_MODELS = {
  "diag-small": 2048,
  "diag-medium": 8192,
  "diag-large": 20000,
} as const;

export const SLEEP_SECONDS = { minimum: 0, maximum: 3600 } as const;
export const MESSAGE_MAX = 2000;
export const CODE_MAX = 64;

/** `type: [<type>, "null"]`: JSON Schema's nullable, one keyword (Ajv's error names the field once). */
const orNull = <T>(s: TSchema) => Type.Optional(Type.Unsafe<T | null>({ ...s, type: [(s as { type: string }).type, "null"] }));

const seconds = (dflt: number) => orNull<number>(Type.Number({ ...SLEEP_SECONDS, default: dflt }));

export const SleepParams = Type.Object({
  seconds: seconds(1),
  // Default: one step per second, 1..100 (run() decides it from seconds).
  steps: orNull<number>(Type.Integer({ minimum: 1, maximum: 10_000 })),
  child: orNull<boolean>(Type.Boolean({ default: false, description: "Sleep in a child process that ignores SIGTERM" })),
  // How long it holds the agent's main thread (a long synchronous plugin step).
  block_ms: orNull<number>(Type.Integer({ minimum: 0, maximum: 60_000, default: 0 })),
});

export const FailParams = Type.Object({
  message: orNull<string>(Type.String({ maxLength: MESSAGE_MAX, default: "diag.fail: failure requested" })),
  // An error code of the catalog (core/errors.ts): run() checks it against the catalog.
  code: orNull<string>(Type.String({ maxLength: CODE_MAX, default: "JOB_FAILED" })),
  retryable: orNull<boolean>(Type.Boolean({ default: false })),
  fail_times: orNull<number>(Type.Integer({ minimum: 0, maximum: 1000, description: "Only the first N attempts fail" })),
});

export const GpuParams = Type.Object({ seconds: seconds(0) });

/** No params schema: anything goes, and the throughput bench's submissions skip the check entirely. */
export const DIAG_ECHO: JobTypeSpec = { type: "diag.echo", description: "Returns {echo: params} at once (throughput benchmark)" };
export const DIAG_SLEEP = defineJobType({
  type: "diag.sleep",
  description: "Sleeps `seconds` in `steps`, reporting progress; child=true sleeps in a child process that ignores SIGTERM",
  params: SleepParams,
});
export const DIAG_FAIL = defineJobType({
  type: "diag.fail",
  description: "Fails with `code`/`message`/`retryable`; with fail_times=N only the first N attempts fail",
  params: FailParams,
});
export const DIAG_GPU = defineJobType({
  type: "diag.gpu",
  description: "Loads a diag model on the placed GPU, optionally holds it `seconds`, reports model and GPU",
  models: Object.keys(DIAG_MODELS),
  default_model: "diag-small",
  params: GpuParams,
});
