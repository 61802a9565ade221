/**
 * Job params checked at submit against the schema the job type's plugin declares
 * (JobTypeSpec.params, advertised by agents in their reports). Without it `diag.sleep`
 * with `seconds: -1`, `1e9` or `1e309` (Infinity once parsed) was accepted, queued,
 * dispatched and only then failed on the agent. Types with no declared schema pass as
 * before (their plugin still checks at run time).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { FarmError } from "../core/errors.ts";
import { namedValues } from "../core/job-types/names.ts";
import type { NodeReport } from "../core/telemetry.ts";
import type { Logger } from "../core/logger.ts";

export class ParamCheck {
  private readonly ajv = new Ajv({ strict: false, coerceTypes: false, useDefaults: false, allErrors: false, verbose: true });
  /** Compiled validators by schema text: every node advertises the same few schemas. */
  private readonly compiled = new Map<string, ValidateFunction | null>();
  /** Validator per job type for the capability version it was resolved at. */
  private readonly byType = new Map<string, ValidateFunction | null>();
  private version = -1;

  constructor(private readonly log: Logger) {}

  /**
   * Throws VALIDATION_ERROR naming `params.<field>` when `params` break the type's schema.
   * `version` is the registry's capability version: schemas are looked up again only when
   * what nodes offer changed.
   */
  check(type: string, params: Record<string, unknown>, reports: () => readonly NodeReport[], version: number): void {
    if (version !== this.version) {
      this.byType.clear();
      this.version = version;
    }
    let validate = this.byType.get(type);
    if (validate === undefined) this.byType.set(type, (validate = this.resolve(type, reports())));
    if (!validate || validate(params)) return;
    throw toValidationError(validate.errors?.[0]);
  }

  private resolve(type: string, reports: readonly NodeReport[]): ValidateFunction | null {
    const schema = reports.map((r) => r.param_schemas?.[type]).find((s) => s && typeof s === "object");
    if (!schema) return null;
    const text = JSON.stringify(schema);
    let v = this.compiled.get(text);
    if (v === undefined) {
      try {
        v = this.ajv.compile(schema);
      } catch (err) {
        // A plugin's broken schema must not stop submissions: its run() still checks.
        this.log.error("a job type's param schema does not compile; params are not checked at submit", { type, error: String(err) });
        v = null;
      }
      this.compiled.set(text, v);
    }
    return v;
  }
}

function toValidationError(e: ErrorObject | undefined): FarmError {
  if (!e) return new FarmError("VALIDATION_ERROR", "params do not match the job type's schema", { field: "params", constraint: "schema" });
  const path = e.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  const extra =
    e.keyword === "additionalProperties"
      ? (e.params as { additionalProperty?: string }).additionalProperty
      : e.keyword === "required"
        ? (e.params as { missingProperty?: string }).missingProperty
        : undefined;
  if (extra !== undefined) path.push(extra);
  const field = ["params", ...path].join(".");
  // A NameOf field (core/job-types/names.ts) fails its pattern: list its names, not the regex
  // (`verbose` gives the failing sub-schema; it costs nothing on the passing path).
  const names = e.keyword === "pattern" ? namedValues(e.parentSchema) : undefined;
  if (names)
    return new FarmError("VALIDATION_ERROR", `${field} must be one of: ${names.join(", ")} (case, spaces and hyphens ignored)`, {
      field,
      constraint: "enum",
      allowed: names,
    });
  const limit = (e.params as { limit?: unknown }).limit;
  return new FarmError("VALIDATION_ERROR", `${field} ${e.message ?? "is invalid"}`, {
    field,
    constraint: e.keyword,
    ...(limit !== undefined ? { limit } : {}),
  });
}
