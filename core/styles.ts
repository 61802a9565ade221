/**
 * Where the style presets live: one data file (core/data/styles.yaml, each field
 * documented there) shared by the prompt enhancer (the whole preset), ComfyUI (a preset's
 * keywords and negatives) and the API (GET /api/v1/enhance/styles), as core/platforms.ts
 * does for platforms, so no layer reads another's files. The enhancer checks every field
 * when it loads its knowledge base; the summary read here only takes what it lists.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { nameIndex } from "./job-types/names.ts";

export const STYLES_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "data", "styles.yaml");

/** What every reader of the presets needs: the name, what it looks like, and its prompt words. */
export interface StyleSummary {
  name: string;
  description: string;
  keywords: readonly string[];
  negative: readonly string[];
}

let summaries: readonly StyleSummary[] | undefined;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** Every preset's summary, read once from STYLES_FILE, in file order. */
export function styleSummaries(): readonly StyleSummary[] {
  summaries ??= Object.freeze(
    ((YAML.parse(fs.readFileSync(STYLES_FILE, "utf8")) as { styles?: Record<string, unknown>[] }).styles ?? [])
      .filter((s) => typeof s.name === "string")
      .map((s) =>
        Object.freeze({
          name: s.name as string,
          description: typeof s.description === "string" ? s.description : "",
          keywords: Object.freeze(strings(s.keywords)),
          negative: Object.freeze(strings(s.negative)),
        }),
      ),
  );
  return summaries;
}

/** Style presets as GET /api/v1/enhance/styles lists them. */
export function listStyles(): { name: string; description: string; keywords: string[] }[] {
  return styleSummaries().map((s) => ({ name: s.name, description: s.description, keywords: [...s.keywords] }));
}

/** The presets' names, in file order (the enum the job types' `style` fields accept). */
export function styleNames(): string[] {
  return styleSummaries().map((s) => s.name);
}

let byName: ((name: string) => StyleSummary | undefined) | undefined;

/**
 * The preset named `name` under the forgiving rule the schemas accept (core/job-types/names.ts:
 * case, spaces, hyphens and underscores ignored), or undefined.
 */
export function findStyleSummary(name: string): StyleSummary | undefined {
  byName ??= nameIndex(styleSummaries(), (s) => [s.name]);
  return byName(name);
}
