/** Small field readers: each returns a typed value or throws VALIDATION_ERROR naming the field. */
import { validation } from "../../../core/errors.ts";

export type Obj = Record<string, unknown>;

export function obj(value: unknown, field: string): Obj {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw validation(field, "object", `${field} must be an object`);
  }
  return value as Obj;
}

export function optObj(value: unknown, field: string): Obj | undefined {
  return value === undefined || value === null ? undefined : obj(value, field);
}

export function num(value: unknown, field: string, min: number, max: number): number;
export function num(value: unknown, field: string, min: number, max: number, def: number): number;
export function num(value: unknown, field: string, min: number, max: number, def: undefined): number | undefined;
export function num(value: unknown, field: string, min: number, max: number, ...rest: [number?]): number | undefined {
  if (value === undefined || value === null) {
    if (rest.length === 0) throw validation(field, "required", `${field} is required`);
    return rest[0];
  }
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) throw validation(field, "number", `${field} must be a number`);
  if (n < min || n > max) throw validation(field, `range ${min}..${max}`, `${field} must be between ${min} and ${max} (got ${n})`);
  return n;
}

/** A strictly positive number (durations): 0 is rejected with its own message. */
export function positive(value: unknown, field: string, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = num(value, field, -Infinity, max);
  if (n <= 0) throw validation(field, "> 0", `${field} must be greater than 0 (got ${n})`);
  return n;
}

export function int(value: unknown, field: string, min: number, max: number, def?: number): number {
  const n = def === undefined ? num(value, field, min, max) : num(value, field, min, max, def);
  if (!Number.isInteger(n)) throw validation(field, "integer", `${field} must be a whole number (got ${n})`);
  return n;
}

export function str(value: unknown, field: string): string;
export function str(value: unknown, field: string, def: string): string;
export function str(value: unknown, field: string, def: undefined): string | undefined;
export function str(value: unknown, field: string, ...rest: [string?]): string | undefined {
  if (value === undefined || value === null) {
    if (rest.length === 0) throw validation(field, "required", `${field} is required`);
    return rest[0];
  }
  if (typeof value !== "string" || value.length === 0) throw validation(field, "string", `${field} must be a non-empty string`);
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], def?: T): T {
  const s = def === undefined ? str(value, field) : str(value, field, def);
  if (!(allowed as readonly string[]).includes(s)) {
    throw validation(field, "enum", `${field} must be one of: ${allowed.join(", ")} (got '${s}')`, { allowed: [...allowed] });
  }
  return s as T;
}

export function bool(value: unknown, field: string, def: boolean): boolean {
  if (value === undefined || value === null) return def;
  if (typeof value !== "boolean") throw validation(field, "boolean", `${field} must be true or false`);
  return value;
}

export function numArray(value: unknown, field: string, maxLen: number): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw validation(field, "array", `${field} must be an array of seconds`);
  if (value.length > maxLen) throw validation(field, `max ${maxLen} items`, `${field} has ${value.length} items; at most ${maxLen}`);
  return value.map((v, i) => num(v, `${field}[${i}]`, 0, 86_400));
}
