/**
 * Which ComfyUI models an instance can run, from its /object_info alone: every node class a
 * model's templates use must be installed, and every weight file must be among its loader's
 * COMBO options (ComfyUI fills those from its model folders). Absent -> listed under
 * `missing` with each reason, so `farmctl models` can say why.
 */
import type { InputSpec, ObjectInfo } from "../client/types.ts";
import { COMFY_MODELS, variantKey, type ModelRequirements } from "./models.ts";

/** COMBO options of an input: V1 nodes list them as the type, V3 nodes as "COMBO" + {options}. */
export function comboOptions(spec: InputSpec | undefined): string[] | undefined {
  if (!spec) return undefined;
  const [type, opts] = spec;
  if (Array.isArray(type)) return type;
  if (type === "COMBO" && opts && Array.isArray(opts.options)) return opts.options as string[];
  return undefined;
}

export function missingFor(m: ModelRequirements, info: ObjectInfo): string[] {
  const why: string[] = [];
  for (const node of m.nodes) {
    if (!info[node]) why.push(`node class ${node} is not installed`);
  }
  for (const f of m.files) {
    const cls = info[f.input.node];
    if (!cls) continue; // already reported as a missing node class
    const spec = cls.input.required?.[f.input.name] ?? cls.input.optional?.[f.input.name];
    const options = comboOptions(spec);
    if (!options?.includes(f.file)) why.push(`${f.file} is not in models/${f.folder} (${f.input.node}.${f.input.name} does not offer it)`);
  }
  return why;
}

export interface Availability {
  available: string[];
  missing: Record<string, string[]>;
}

/**
 * Groups per-entry reasons by the key they are offered under: a key is available when any of its
 * entries is (a face_ref variant with several methods needs one of them); otherwise its reasons
 * are every entry's, each prefixed with its method when there are several.
 */
function byKey(models: readonly ModelRequirements[], reasons: readonly string[][]): Availability {
  const keys = [...new Set(models.map(variantKey))];
  const available: string[] = [];
  const missing: Record<string, string[]> = {};
  for (const key of keys) {
    const entries = models.map((m, i) => ({ m, why: reasons[i]! })).filter((e) => variantKey(e.m) === key);
    if (entries.some((e) => e.why.length === 0)) available.push(key);
    else missing[key] = entries.length === 1 ? entries[0]!.why : entries.flatMap((e) => e.why.map((w) => `${e.m.face_method ?? e.m.modes.join("/")}: ${w}`));
  }
  return { available, missing };
}

/** From /object_info alone (node classes and loader COMBO options). */
export function availableModels(info: ObjectInfo, models: readonly ModelRequirements[] = COMFY_MODELS): Availability {
  return byKey(
    models,
    models.map((m) => missingFor(m, info)),
  );
}

/** As availableModels, plus each entry's unlisted_files looked up through /models/<folder>. */
export async function availableModelsOn(
  info: ObjectInfo,
  listFolder: (folder: string) => Promise<string[]>,
  models: readonly ModelRequirements[] = COMFY_MODELS,
): Promise<Availability> {
  const reasons: string[][] = [];
  for (const m of models) {
    const why = missingFor(m, info);
    for (const f of m.unlisted_files ?? []) {
      if (!(await listFolder(f.folder)).includes(f.file)) why.push(`${f.file} is not in models/${f.folder}`);
    }
    reasons.push(why);
  }
  return byKey(models, reasons);
}
