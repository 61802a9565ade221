/**
 * A job type written once. Each plugin declares its job types in `plugins/<name>/job-types.ts`
 * with these helpers: the params schema (TypeBox, i.e. plain JSON Schema objects), the
 * models and the default model. Everything else is derived from that one definition:
 * - the plugin manifest's `job_types` entry (the coordinator checks submissions against
 *   `params` with Ajv, core/plugin-contract.ts JobTypeSpec),
 * - the API route's body schema and so the OpenAPI document (api/job-type-body.ts),
 * - the TypeScript type of the params (`Static<typeof Def.params>`),
 * - the plugin's run-time check (core/job-types/parse.ts).
 *
 * Layer rule (enforced by eslint.config.js): api/ may import from plugins/ only their
 * `job-types.ts` files, and a `job-types.ts` imports nothing but `typebox`, core/ and the
 * model catalog (models/catalog.ts: YAML data), never runtime code of its plugin, so the
 * API never loads onnx, ffmpeg or model code.
 */
import { Type, type TObject, type TUnsafe } from "typebox";
import type { JobTypeSpec, ParamSchema } from "../plugin-contract.ts";

/**
 * A job type's single definition. `params` is the schema of the job's params as the
 * coordinator checks them; typed both as the TypeBox schema (for `Static<>`) and as the
 * manifest's plain JSON Schema (ParamSchema), so a definition is a JobTypeSpec as it is.
 */
export type JobTypeDef<S extends TObject = TObject> = Omit<JobTypeSpec, "params"> & { params: S & ParamSchema };

/** Throws at import when the default model is not one of the models (a programming error). */
export function defineJobType<S extends TObject>(def: Omit<JobTypeSpec, "params"> & { params: S }): JobTypeDef<S> {
  if (def.default_model !== undefined && !(def.models ?? []).includes(def.default_model)) {
    throw new Error(`job type ${def.type}: default_model '${def.default_model}' is not one of its models`);
  }
  return def as JobTypeDef<S>;
}

/**
 * A string from a fixed list, written as JSON Schema `enum` (TypeBox's literal unions are
 * `anyOf` of consts, whose Ajv errors name the alternatives one by one instead of the list).
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });
}

/**
 * A plugin's entry for a job type defined without models (one served by several plugins,
 * e.g. core/job-types/image-generate.ts): the same definition, params object unchanged,
 * with this plugin's models and default.
 */
export function withModels<S extends TObject>(
  def: JobTypeDef<S>,
  models: readonly string[],
  extra: { default_model?: string; description?: string } = {},
): JobTypeDef<S> {
  return defineJobType({ ...def, ...extra, models: [...models] });
}
