/**
 * Running one workflow on the task's ComfyUI instance, the part image and video share:
 * input images copied from the artifact store through /upload/image, the run followed on
 * the websocket with sampler steps reported as ctx.progress ("step 12/30"), cancel passed
 * as the abort signal (the client deletes a queued prompt or interrupts a running one), and
 * the output node's first file named for output.ts, which streams it back through /view.
 *
 * A ComfyUI that dies mid-job surfaces from the client as a retryable GPU_ERROR; the
 * instance is marked down at once (onLost) so the node stops advertising it before the
 * next health poll, and the farm re-runs the job per its retry policy.
 */
import path from "node:path";
import { FarmError } from "../../../core/errors.ts";
import type { TaskContext } from "../../../core/plugin-contract.ts";
import type { ApiWorkflow, ComfyFileRef } from "../client/index.ts";
import type { ComfyInstance } from "../runtime/instance.ts";

export interface ExecuteDeps {
  timeoutMs: number;
  /** The instance is gone (connection refused, socket closed mid-job); resolves once the node stopped offering it. */
  onLost(instance: ComfyInstance, why: string): Promise<void>;
}

export async function readArtifact(ctx: TaskContext, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await ctx.artifacts.get(key)) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Upload artifact-store images into ComfyUI's input folder; returns the names LoadImage takes. */
export async function uploadInputs(instance: ComfyInstance, ctx: TaskContext, jobId: string, keys: readonly string[], field: string): Promise<string[]> {
  const names: string[] = [];
  for (const [i, key] of keys.entries()) {
    let bytes: Buffer;
    try {
      bytes = await readArtifact(ctx, key);
    } catch (err) {
      throw new FarmError(
        "VALIDATION_ERROR",
        `${field}${keys.length > 1 ? `[${i}]` : ""}: image '${key}' could not be read: ${err instanceof Error ? err.message : String(err)}`,
        { field, constraint: "readable" },
      );
    }
    // One subfolder per job: names never collide between concurrent jobs on one instance.
    const ext = path.extname(key) || ".png";
    const up = await instance.client.uploadImage(bytes, `${field.replace(/\W+/g, "_")}_${i}${ext}`, {
      subfolder: `nb-farm/${jobId.replace(/[^A-Za-z0-9_-]/g, "_")}`,
      overwrite: true,
    });
    names.push(up.subfolder ? `${up.subfolder}/${up.name}` : up.name);
  }
  return names;
}

/** Queue, follow, and name the output node's first file (output.ts fetches it). */
export async function executeWorkflow(
  instance: ComfyInstance,
  workflow: ApiWorkflow,
  outputNode: string,
  ctx: TaskContext,
  deps: ExecuteDeps,
): Promise<{ file: ComfyFileRef; promptId: string }> {
  let outputs;
  let promptId: string;
  try {
    const res = await instance.client.run(workflow, {
      signal: ctx.signal,
      timeoutMs: deps.timeoutMs,
      outputNode,
      onProgress: (value, max) => {
        if (max > 0) ctx.progress(5 + Math.round((90 * Math.min(value, max)) / max), `step ${value}/${max}`);
      },
    });
    outputs = res.outputs;
    promptId = res.promptId;
  } catch (err) {
    if (err instanceof FarmError && (err.details as { reason?: string } | undefined)?.reason === "comfyui_lost") await deps.onLost(instance, err.message);
    throw err;
  }
  const out = outputs[outputNode];
  const file = out?.images?.[0] ?? out?.gifs?.[0];
  if (!file) {
    throw new FarmError(
      "MODEL_ERROR",
      `ComfyUI finished prompt ${promptId} without an output from node ${outputNode} (outputs from nodes: ${Object.keys(outputs).join(", ") || "none"})`,
      {
        reason: "comfyui_no_output",
        node_id: outputNode,
      },
    );
  }
  return { file, promptId };
}
