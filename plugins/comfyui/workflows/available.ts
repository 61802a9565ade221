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

export function availableModels(info: ObjectInfo, models: readonly ModelRequirements[] = COMFY_MODELS): { available: string[]; missing: Record<string, string[]> } {
  const available: string[] = [];
  const missing: Record<string, string[]> = {};
  for (const m of models) {
    const why = missingFor(m, info);
    if (why.length === 0) available.push(variantKey(m));
    else missing[variantKey(m)] = why;
  }
  return { available, missing };
}
