/** Tiny param readers for the diag job types: each bad value is a VALIDATION_ERROR naming the field. */
import { FarmError } from "../../core/errors.ts";

const bad = (field: string, constraint: string, message: string) => new FarmError("VALIDATION_ERROR", message, { field, constraint });

export function numberParam(params: Record<string, unknown>, field: string, opts: { min: number; max: number; default: number; integer?: boolean }): number {
  const v = params[field];
  if (v === undefined || v === null) return opts.default;
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(`params.${field}`, "number", `params.${field} must be a number, got ${JSON.stringify(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw bad(`params.${field}`, "integer", `params.${field} must be an integer, got ${v}`);
  if (v < opts.min || v > opts.max)
    throw bad(`params.${field}`, `${opts.min}..${opts.max}`, `params.${field} must be between ${opts.min} and ${opts.max}, got ${v}`);
  return v;
}

export function optionalInt(params: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  if (params[field] === undefined || params[field] === null) return undefined;
  return numberParam(params, field, { min, max, default: min, integer: true });
}

export function boolParam(params: Record<string, unknown>, field: string, def: boolean): boolean {
  const v = params[field];
  if (v === undefined || v === null) return def;
  if (typeof v !== "boolean") throw bad(`params.${field}`, "boolean", `params.${field} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function stringParam(params: Record<string, unknown>, field: string, def: string, maxLength = 2000): string {
  const v = params[field];
  if (v === undefined || v === null) return def;
  if (typeof v !== "string") throw bad(`params.${field}`, "string", `params.${field} must be a string, got ${JSON.stringify(v)}`);
  if (v.length > maxLength) throw bad(`params.${field}`, `maxLength ${maxLength}`, `params.${field} must be at most ${maxLength} characters`);
  return v;
}
