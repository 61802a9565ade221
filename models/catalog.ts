/**
 * The model catalog: one YAML file per model family in this folder (format in
 * models/README.md). Plugins read their entries from it (plugins/comfyui builds its
 * manifest from the `comfyui` runtime entries) and `farmctl models` lists it against
 * what each node advertises, so an operator sees every model the farm could offer and why
 * one is absent. Weights never live here: only where they go and what they need.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import YAML from "yaml";
import { FarmError } from "../core/errors.ts";

export const MODELS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** A weight file: a ComfyUI models folder + file name, or (no folder) a path under paths.models. */
export interface CatalogFile {
  folder?: string;
  file: string;
}

export interface CatalogModel {
  id: string;
  /** Which runtime serves it; matches PluginRuntime ("comfyui", "onnx", ...). */
  runtime: string;
  job_types: string[];
  files: CatalogFile[];
  /** VRAM need on one GPU while loaded, MiB (0 = CPU). */
  vram_mb: number;
  /** Where the VRAM figure comes from (a published figure or the weights' size). */
  vram_source: string;
  license: string;
  /** Where the weights are published. */
  source: string;
  description?: string;
}

export interface CatalogFamily {
  family: string;
  /** The file it was read from (relative to models/). */
  file: string;
  models: CatalogModel[];
}

const schema = {
  type: "object",
  required: ["family", "models"],
  additionalProperties: false,
  properties: {
    family: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]*$" },
    models: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["id", "runtime", "job_types", "files", "vram_mb", "vram_source", "license", "source"],
        additionalProperties: false,
        properties: {
          id: { type: "string", pattern: "^[A-Za-z0-9._:/-]+$" },
          runtime: { enum: ["cpu", "ffmpeg", "onnx", "tfjs", "comfyui", "remote-api", "python"] },
          job_types: { type: "array", minItems: 1, items: { type: "string", pattern: "^[a-z0-9]+\\.[a-z0-9_.]+$" } },
          files: {
            type: "array",
            items: {
              type: "object",
              required: ["file"],
              additionalProperties: false,
              // No absolute paths or '..': a catalog entry must not point outside the models folders.
              properties: {
                folder: { type: "string", pattern: "^[A-Za-z0-9_]+$" },
                file: { type: "string", minLength: 1, pattern: "^(?!/)(?!.*\\.\\.)[^\\\\]+$" },
              },
            },
          },
          vram_mb: { type: "integer", minimum: 0 },
          vram_source: { type: "string", minLength: 1 },
          license: { type: "string", minLength: 1 },
          source: { type: "string", pattern: "^https://" },
          description: { type: "string" },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** Parse and check one family file's text. Throws VALIDATION_ERROR naming the file and field. */
export function parseFamily(text: string, file: string): CatalogFamily {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new FarmError("VALIDATION_ERROR", `models/${file}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`, {
      field: file,
      constraint: "yaml",
    });
  }
  if (!validate(doc)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
    throw new FarmError("VALIDATION_ERROR", `models/${file}: ${problems.join("; ")}`, { field: file, constraint: "schema", problems });
  }
  const fam = doc as unknown as Omit<CatalogFamily, "file">;
  return { family: fam.family, file, models: fam.models };
}

/** Every family in a folder (default: this one), ids unique across files. */
export function loadCatalog(dir = MODELS_DIR): CatalogFamily[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  const families = files.map((f) => parseFamily(fs.readFileSync(path.join(dir, f), "utf8"), f));
  const seen = new Map<string, string>();
  for (const fam of families) {
    for (const m of fam.models) {
      const other = seen.get(m.id);
      if (other)
        throw new FarmError("VALIDATION_ERROR", `model id '${m.id}' is in both models/${other} and models/${fam.file}`, { field: m.id, constraint: "unique" });
      seen.set(m.id, fam.file);
    }
  }
  return families;
}

/** The catalog's models, flat, optionally of one runtime. */
export function catalogModels(opts: { runtime?: string; dir?: string } = {}): (CatalogModel & { family: string })[] {
  return loadCatalog(opts.dir)
    .flatMap((f) => f.models.map((m) => ({ ...m, family: f.family })))
    .filter((m) => opts.runtime === undefined || m.runtime === opts.runtime);
}
