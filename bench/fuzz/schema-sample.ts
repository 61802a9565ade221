/**
 * A value that a JSON schema (the subset Fastify route schemas use: type / type arrays,
 * enum, const, properties + required, items, min/max, anyOf/oneOf) accepts, chosen with a
 * seeded PRNG. The fuzzer starts from such a valid request and then breaks one thing in it,
 * so most requests get past the outer validation and reach the code behind it.
 */
import type { Rng } from "../../scripts/audio-eval/rng.ts";

export type Schema = Record<string, unknown>;

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;

function typeOf(s: Schema, rng: Rng): string | undefined {
  const t = s.type;
  if (Array.isArray(t)) {
    const nonNull = t.filter((x) => x !== "null");
    return String(nonNull.length ? pick(rng, nonNull) : "null");
  }
  if (typeof t === "string") return t;
  if (s.properties) return "object";
  if (s.items) return "array";
  return undefined;
}

function num(s: Schema, rng: Rng, integer: boolean): number {
  const lo = typeof s.minimum === "number" ? s.minimum : typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + (integer ? 1 : 0.001) : 0;
  let hi = typeof s.maximum === "number" ? s.maximum : typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - (integer ? 1 : 0.001) : lo + 10;
  // Valid but small: a huge valid number (a 86,400 s video) is a load test, not a fuzz case.
  hi = Math.min(hi, lo + 10);
  const v = lo + rng() * (hi - lo);
  return integer ? Math.max(Math.ceil(lo), Math.min(Math.floor(hi), Math.round(v))) : Math.round(v * 1000) / 1000;
}

function str(s: Schema, rng: Rng, name: string): string {
  const min = typeof s.minLength === "number" ? s.minLength : 0;
  const max = typeof s.maxLength === "number" ? s.maxLength : 32;
  if (s.format === "uri" || /url$/i.test(name)) return "https://example.invalid/a.png";
  const base = `${name || "s"}-${Math.floor(rng() * 1e6).toString(36)}`;
  let out = base.slice(0, Math.max(min, Math.min(max, base.length)));
  while (out.length < min) out += "x";
  return out;
}

/** A value the schema accepts (best effort: `pattern` and `format` beyond uri are not honoured). */
export function sample(s: Schema | undefined, rng: Rng, name = "", depth = 0): unknown {
  if (!s || depth > 8) return null;
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return pick(rng, s.enum);
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts) && alts.length) return sample(pick(rng, alts), rng, name, depth + 1);
  if ("default" in s && rng() < 0.3) return s.default;
  switch (typeOf(s, rng)) {
    case "object": {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set((s.required ?? []) as string[]);
      const out: Record<string, unknown> = {};
      for (const [k, sub] of Object.entries(props)) {
        if (required.has(k) || rng() < 0.35) out[k] = sample(sub, rng, k, depth + 1);
      }
      return out;
    }
    case "array": {
      const min = typeof s.minItems === "number" ? s.minItems : 0;
      const max = Math.min(typeof s.maxItems === "number" ? s.maxItems : 3, min + 2);
      const n = min + Math.floor(rng() * (max - min + 1));
      return Array.from({ length: n }, () => sample(s.items as Schema, rng, name, depth + 1));
    }
    case "integer":
      return num(s, rng, true);
    case "number":
      return num(s, rng, false);
    case "boolean":
      return rng() < 0.5;
    case "string":
      return str(s, rng, name);
    case "null":
      return null;
    default:
      return rng() < 0.5 ? "x" : 1;
  }
}

/** Every (JSON pointer-ish path, schema) inside an object schema, for choosing what to break. */
export function fieldPaths(s: Schema | undefined, prefix: (string | number)[] = [], depth = 0): { path: (string | number)[]; schema: Schema }[] {
  if (!s || depth > 6) return [];
  const out: { path: (string | number)[]; schema: Schema }[] = [];
  for (const [k, sub] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
    out.push({ path: [...prefix, k], schema: sub });
    out.push(...fieldPaths(sub, [...prefix, k], depth + 1));
  }
  if (s.items && typeof s.items === "object") out.push(...fieldPaths(s.items as Schema, [...prefix, 0], depth + 1));
  return out;
}
