/**
 * The plugin side of a job type's definition (core/job-types/define.ts): check a task's
 * params against the schema the coordinator already checked at submit, because tasks also
 * reach a plugin from tests, the mesh and embedded callers that never went through it.
 * Defaults from the schema fill absent fields. The first problem is a VALIDATION_ERROR
 * naming the field (`details.field`, without the `params.` prefix the coordinator adds) and
 * the broken keyword; checks a schema cannot say (cross-field rules) stay in the plugin.
 */
import type { Static, TSchema } from "typebox";
import { Value } from "typebox/value";
import { Compile } from "typebox/compile";
import { validation } from "../errors.ts";
import { namedValues } from "./names.ts";

export interface ParseOptions {
  /**
   * Treat a top-level `null` as an absent field (its default applies). For plugins whose
   * hand checks accepted null before the schema existed; the coordinator's submit check
   * (Ajv on the same schema) does not, so this only keeps direct callers working.
   */
  nullIsAbsent?: boolean;
  /**
   * Put before the field in errors, e.g. "params." for plugins whose run-time errors have
   * always named the field as the coordinator's submit check does (diag).
   */
  fieldPrefix?: string;
}

// One compiled check per schema: every task of a type is parsed on its job's critical path,
// and Value.Errors walks the schema interpreted even when nothing is wrong (image.generate:
// 141 us for a valid request at load ~15, the compiled check 4.5 us; bench comfyui).
const compiled = new WeakMap<TSchema, { Check(value: unknown): boolean }>();
function checkerFor(schema: TSchema): { Check(value: unknown): boolean } {
  let c = compiled.get(schema);
  if (!c) {
    try {
      c = Compile(schema);
    } catch {
      // A schema the compiler cannot take is checked interpreted, as before.
      c = { Check: (value: unknown) => Value.Check(schema, value) };
    }
    compiled.set(schema, c);
  }
  return c;
}

export function parseParams<S extends TSchema>(schema: S, params: Readonly<Record<string, unknown>>, opts: ParseOptions = {}): Static<S> {
  const given = opts.nullIsAbsent ? Object.fromEntries(Object.entries(params).filter(([, v]) => v !== null)) : params;
  // Clone: in embedded mode params are the job store's frozen object, and Default writes.
  const value = Value.Default(schema, Value.Clone(given)) as Record<string, unknown>;
  // Valid (the usual case: the coordinator checked it at submit): no error walk. Otherwise
  // Value.Errors finds the first problem to name, as before.
  if (checkerFor(schema).Check(value)) return value as Static<S>;
  for (const e of Value.Errors(schema, value)) {
    // `additionalProperties: false` reports the extra field twice: as a "false" sub-schema
    // at its path, then as additionalProperties on the object; the second one says it.
    if (e.keyword === "boolean" && e.schemaPath.endsWith("/additionalProperties")) continue;
    const path = e.instancePath
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const missing = e.keyword === "required" ? (e.params as { requiredProperties?: string[] }).requiredProperties?.[0] : undefined;
    const extra = e.keyword === "additionalProperties" ? (e.params as { additionalProperties?: string[] }).additionalProperties?.[0] : undefined;
    const name = missing ?? extra;
    if (name !== undefined) path.push(name);
    const field = `${opts.fieldPrefix ?? ""}${path.join(".")}` || "params";
    // A NameOf field (names.ts) fails its pattern: say which names it takes, not the regex.
    const names = e.keyword === "pattern" ? namedValues(atPointer(schema, e.schemaPath)) : undefined;
    if (names) throw validation(field, "enum", `${field} must be one of: ${names.join(", ")} (case, spaces and hyphens ignored)`, { allowed: names });
    const message = missing !== undefined ? `${field} is required` : extra !== undefined ? `${field} is not a known parameter` : `${field} ${e.message}`;
    throw validation(field, e.keyword, message);
  }
  return value as Static<S>;
}

/** The sub-schema at a JSON pointer ("#/properties/style") of `root`. */
function atPointer(root: unknown, pointer: string): unknown {
  let at: unknown = root;
  for (const p of pointer.replace(/^#/, "").split("/").slice(1)) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<string, unknown>)[p.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return at;
}
