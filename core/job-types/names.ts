/**
 * Forgiving names (style presets, platforms): people type "sci fi", "SCI-FI" or "3d_render"
 * for "Sci-Fi" and "3D Render". The one rule, used both by the schema the coordinator and
 * the API check at submit and by the plugins' lookups at run time, so a name the schema
 * accepts is always found and an unknown one is a 400 at submit instead of a failed job:
 * case is ignored, and so are spaces, hyphens and underscores anywhere in the name.
 */
import { Type, type TUnsafe } from "typebox";

const IGNORED = /[\s_-]+/g;

/** The comparison key of a name: lower case, without spaces, hyphens and underscores. */
export function nameKey(name: string): string {
  return name.toLowerCase().replace(IGNORED, "");
}

const SYNTAX = /[\^$\\.*+?()[\]{}|/]/g;
const GAP = "[-_\\s]*";

/**
 * A JSON Schema `pattern` matching exactly the strings whose nameKey is one of the names'
 * keys. Written with character classes (`[sS]`) because JSON Schema patterns have no
 * case-insensitive flag; valid under the `u` flag Ajv compiles patterns with.
 */
export function namePattern(names: readonly string[]): string {
  const keys = [...new Set(names.map(nameKey))].filter((k) => k.length > 0);
  const alt = keys.map((k) =>
    [...k]
      .map((c) => {
        const upper = c.toUpperCase();
        if (upper !== c && upper.length === 1) return `[${c}${upper}]`;
        return c.replace(SYNTAX, "\\$&");
      })
      .join(GAP),
  );
  return `^${GAP}(?:${alt.join("|")})${GAP}$`;
}

/**
 * A string that must name one of `names` (nameKey rule). `examples` carries the canonical
 * names: the error formatters (core/job-types/parse.ts, the coordinator's param check, the
 * API's) list them when the pattern fails, instead of printing the pattern.
 */
export function NameOf(names: readonly string[], options: Record<string, unknown> = {}): TUnsafe<string> {
  return Type.Unsafe<string>({ type: "string", maxLength: 100, pattern: namePattern(names), examples: [...names], ...options });
}

/** The canonical names a NameOf schema lists, when `schema` is one (for error messages). */
export function namedValues(schema: unknown): string[] | undefined {
  const s = schema as { pattern?: unknown; examples?: unknown } | undefined;
  if (!s || typeof s.pattern !== "string" || !Array.isArray(s.examples)) return undefined;
  return s.examples.every((x) => typeof x === "string") ? (s.examples as string[]) : undefined;
}

/** A lookup by nameKey over `items`; the first item wins on a clash, as a linear search would. */
export function nameIndex<T>(items: readonly T[], names: (item: T) => readonly string[]): (name: string) => T | undefined {
  const map = new Map<string, T>();
  for (const item of items) for (const n of names(item)) if (!map.has(nameKey(n))) map.set(nameKey(n), item);
  return (name) => map.get(nameKey(name));
}
