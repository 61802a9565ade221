/**
 * Workflow templates: API-format ComfyUI graphs in ./templates/*.json with the request fields
 * they take bound to node inputs. Read once, then deep-copied per request.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ApiWorkflow } from "../client/types.ts";
import type { ComfyMode, FaceMethod } from "./models.ts";

/** Request fields a template can bind. */
export type BindableField =
  | "prompt"
  | "negative_prompt"
  | "width"
  | "height"
  | "seed"
  | "steps"
  | "cfg"
  | "guidance"
  | "sampler"
  | "num_frames"
  | "fps"
  | "start_image"
  | "reference_images";

export interface WorkflowTemplate {
  model_id: string;
  mode: ComfyMode;
  /** face_ref templates other than IP-Adapter FaceID name their method (models.ts FaceMethod). */
  face_method?: FaceMethod;
  /** Where the graph was written from (example workflow, model card). */
  source: string;
  /** The save node whose history output holds the result. */
  output_node: string;
  /** field -> [[node_id, input_name], ...]: every input the field's value goes into. */
  bindings: Partial<Record<BindableField, [string, string][]>>;
  prompt: ApiWorkflow;
}

export const TEMPLATE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "templates");

/**
 * Each template's text, checked once. Every call parses its own copy (the caller fills it in):
 * JSON.parse of the cached text took 10 µs for sdxl-turbo's against 33 µs for structuredClone
 * of a parsed one (idle, 20,000 calls each), on every image job's path before /prompt.
 */
const cache = new Map<string, string>();

export function loadTemplate(file: string): WorkflowTemplate {
  let text = cache.get(file);
  if (text === undefined) {
    text = readFileSync(path.join(TEMPLATE_DIR, file), "utf8");
    const t = JSON.parse(text) as WorkflowTemplate;
    for (const [field, targets] of Object.entries(t.bindings)) {
      for (const [node, input] of targets ?? []) {
        if (!t.prompt[node] || !(input in t.prompt[node].inputs)) {
          throw new Error(`template ${file}: binding ${field} -> ${node}.${input} names no such node input`);
        }
      }
    }
    cache.set(file, text);
  }
  return JSON.parse(text) as WorkflowTemplate;
}
