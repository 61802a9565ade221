/**
 * A job route's body schema derived from the job type's one definition
 * (plugins/<name>/job-types.ts, core/job-types/define.ts): the params schema's fields,
 * closed (`additionalProperties: false`, so a misspelt field is a 400 naming it), plus
 * `model` (an enum of the type's models, defaulting to the definition's default model)
 * when the type has models. `fields` replaces or adds fields whose wire form differs from
 * the params the coordinator sees, e.g. a media reference the route resolves to an
 * artifact key (`audio_path`).
 */
import type { JobTypeDef } from "../core/job-types/define.ts";

export interface BodyOptions {
  /** Fields that replace the params schema's ones (same name) or are added. */
  fields?: Record<string, unknown>;
  /** Leave out the `model` field even when the type has models. */
  noModel?: boolean;
  /** Params the route does not take (it sets them itself in toParams). */
  omit?: string[];
  /**
   * Fields whose schema default the route must not fill (the body validator applies
   * defaults): the route decides them itself, e.g. an image size from a platform preset.
   */
  noDefault?: string[];
  /** Defaults the route sets where the params schema has none (the plugin's comes from its config). */
  defaults?: Record<string, unknown>;
  /** Required params the route makes optional (it fills them itself in toParams, e.g. from an alternative field). */
  notRequired?: string[];
}

export function jobTypeBody(def: JobTypeDef, opts: BodyOptions = {}): Record<string, unknown> {
  const schema = def.params as unknown as { properties: Record<string, unknown>; required?: string[] };
  const models = def.models ?? [];
  const model =
    models.length > 0 && !opts.noModel
      ? { model: { type: "string", enum: [...models], ...(def.default_model !== undefined ? { default: def.default_model } : {}) } }
      : {};
  const properties: Record<string, unknown> = { ...stripSymbols(schema.properties), ...model, ...(opts.fields ?? {}) };
  for (const f of opts.omit ?? []) delete properties[f];
  for (const [f, d] of Object.entries(opts.defaults ?? {})) properties[f] = { ...(properties[f] as Record<string, unknown>), default: d };
  for (const f of opts.noDefault ?? []) {
    const { default: _default, ...rest } = properties[f] as Record<string, unknown>;
    properties[f] = rest;
  }
  const required = (schema.required ?? []).filter((f) => !(opts.omit ?? []).includes(f) && !(opts.notRequired ?? []).includes(f));
  return {
    type: "object",
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    properties,
  };
}

/** Plain JSON copies of the field schemas (TypeBox marks its objects; Fastify only needs the JSON). */
function stripSymbols(props: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(props)) as Record<string, unknown>;
}
