/**
 * ComfyClient.run(): one prompt from queue to outputs, following ComfyUI's websocket.
 *
 * Message order for a prompt (execution.py PromptExecutor.execute): execution_start,
 * execution_cached, then per node executing {node} (+ progress {value,max} from samplers,
 * + executed {node, output} from output nodes), then execution_success and executing
 * {node: null}. Failures end with execution_error or execution_interrupted instead of
 * execution_success. Old servers send no execution_success, so executing {node: null}
 * also ends a run.
 */
import { FarmError } from "../../../core/errors.ts";
import { abortError, comfyLost, executionError } from "./errors.ts";
import type { ComfyEventStream } from "./ws-events.ts";
import type { ApiWorkflow, ComfyNodeOutput, ComfyWsMessage } from "./types.ts";
import type { ComfyClient } from "./client.ts";

export interface RunOptions {
  signal?: AbortSignal;
  /** Sampler steps: value of max for the node now sampling. */
  onProgress?: (value: number, max: number, node: string | null) => void;
  /** The node ComfyUI starts; null when the prompt is done. */
  onExecuting?: (node: string | null) => void;
  /** Whole run, queue wait included. Default: none. On expiry the prompt is removed/interrupted and TIMEOUT is thrown. */
  timeoutMs?: number;
  /**
   * The output node the caller reads. When ComfyUI reported its output on the websocket
   * (`executed`, the same ui output history is built from), run() resolves at the prompt's end
   * with the outputs seen there instead of asking GET /history: one round trip less, and no
   * retry on a real ComfyUI, whose prompt worker writes history only after execution_success
   * went out. Without it, or when the node's output was not seen (an old server does not
   * re-send a cached node's output), outputs come from /history.
   */
  outputNode?: string;
}

export interface RunResult {
  promptId: string;
  outputs: Record<string, ComfyNodeOutput>;
}

/** History is written just before execution_success is sent; a few short retries cover a slow disk. */
const HISTORY_RETRIES = 20;
const HISTORY_RETRY_MS = 50;

export async function runPrompt(client: ComfyClient, clientId: string, workflow: ApiWorkflow, opts: RunOptions): Promise<RunResult> {
  const { signal } = opts;
  if (signal?.aborted) throw abortError(signal.reason);
  // The client's shared socket: follow() subscribes for this prompt and unsubscribes when it settles.
  const stream = await client.eventStream();
  return follow(client, clientId, stream, workflow, opts);
}

function follow(client: ComfyClient, clientId: string, stream: ComfyEventStream, workflow: ApiWorkflow, opts: RunOptions): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    let promptId: string | undefined;
    let started = false;
    let settled = false;
    // Events can arrive before POST /prompt answers (a fast prompt on an idle server): keep them.
    const early: ComfyWsMessage[] = [];
    const seen: Record<string, ComfyNodeOutput> = {};
    let timer: NodeJS.Timeout | undefined;

    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      offMsg();
      offClose();
      fn();
    };

    /** Takes the prompt off ComfyUI: out of the queue if pending, interrupted if running. Best effort. */
    const withdraw = async (): Promise<void> => {
      if (promptId === undefined) return;
      try {
        if (!started) {
          const q = await client.queue();
          if (q.queue_pending.some((item) => item[1] === promptId)) {
            await client.deleteQueued([promptId]);
            return;
          }
        }
        await client.interrupt(promptId);
      } catch {
        // ComfyUI gone: nothing left to withdraw.
      }
    };

    const onAbort = () => {
      if (settled) return;
      const reason = opts.signal?.reason;
      // Without a prompt id yet, the POST /prompt continuation withdraws it (it checks the signal).
      void withdraw().finally(() => settle(() => reject(abortError(reason))));
    };

    const handle = (msg: ComfyWsMessage) => {
      if (msg.type === "status") return;
      if (promptId === undefined) {
        early.push(msg);
        return;
      }
      if (msg.data.prompt_id !== promptId) return;
      switch (msg.type) {
        case "execution_start":
          started = true;
          return;
        case "executing":
          started = true;
          opts.onExecuting?.(msg.data.node);
          if (msg.data.node === null) void finish();
          return;
        case "progress":
          opts.onProgress?.(msg.data.value, msg.data.max, msg.data.node ?? null);
          return;
        case "executed":
          if (msg.data.output) seen[msg.data.node] = msg.data.output;
          return;
        case "execution_success":
          void finish();
          return;
        case "execution_error":
          settle(() => reject(executionError(msg.data)));
          return;
        case "execution_interrupted":
          if (opts.signal?.aborted) return; // onAbort settles with the AbortError
          settle(() =>
            reject(
              new FarmError(
                "GPU_ERROR",
                `ComfyUI interrupted the prompt in node ${msg.data.node_id} (${msg.data.node_type}) without a cancel from the farm`,
                {
                  reason: "comfyui_interrupted",
                  node_id: msg.data.node_id,
                },
                true,
              ),
            ),
          );
          return;
        default:
          return;
      }
    };

    let finishing = false;
    const finish = async () => {
      if (finishing || settled || promptId === undefined) return;
      finishing = true;
      if (opts.outputNode !== undefined && seen[opts.outputNode]) {
        const id = promptId;
        settle(() => resolve({ promptId: id, outputs: { ...seen } }));
        return;
      }
      try {
        for (let i = 0; i < HISTORY_RETRIES; i++) {
          const entry = await client.history(promptId);
          if (entry) {
            const id = promptId;
            settle(() => resolve({ promptId: id, outputs: entry.outputs }));
            return;
          }
          await new Promise((r) => setTimeout(r, HISTORY_RETRY_MS));
        }
        settle(() =>
          reject(new FarmError("MODEL_ERROR", `ComfyUI finished prompt ${promptId} but has no history entry for it`, { reason: "comfyui_no_history" })),
        );
      } catch (err) {
        settle(() => reject(err));
      }
    };

    const offMsg = stream.onMessage(handle);
    const offClose = stream.onClose((why) =>
      settle(() => reject(comfyLost(client.baseUrl, `${why} while prompt ${promptId ?? "(not yet queued)"} was unfinished`))),
    );
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        void withdraw().finally(() =>
          settle(() =>
            reject(
              new FarmError("TIMEOUT", `ComfyUI prompt ${promptId ?? "(not yet queued)"} did not finish within ${opts.timeoutMs} ms`, {
                base_url: client.baseUrl,
              }),
            ),
          ),
        );
      }, opts.timeoutMs);
    }

    client.queuePrompt(workflow, clientId).then(
      (queued) => {
        promptId = queued.prompt_id;
        if (settled) {
          // Aborted or timed out while POST /prompt was in flight: take it back off the queue.
          void withdraw();
          return;
        }
        for (const m of early.splice(0)) handle(m);
      },
      (err: unknown) => settle(() => reject(err)),
    );
  });
}
