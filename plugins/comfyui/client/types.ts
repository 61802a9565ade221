/**
 * ComfyUI's wire shapes, as its server sends them (server.py, execution.py, comfy_execution).
 * Field names are ComfyUI's own (snake_case, `class_type`, `node_errors`), never renamed, so a
 * payload logged here can be compared with a real server's byte for byte.
 */

/** A link to another node's output: [node_id, output_slot]. */
export type ApiLink = [string, number];
export type ApiInputValue = string | number | boolean | null | ApiLink | unknown[] | Record<string, unknown>;

/** One node of an API-format workflow ("Save (API Format)" in ComfyUI's menu). */
export interface ApiNode {
  class_type: string;
  inputs: Record<string, ApiInputValue>;
  _meta?: { title?: string };
}

/** An API-format workflow: node id -> node. This is POST /prompt's `prompt`. */
export type ApiWorkflow = Record<string, ApiNode>;

/**
 * One input's spec in /object_info: [TYPE, options?]. TYPE is a type name ("INT", "MODEL"),
 * a list of allowed values (V1 COMBO), or "COMBO" with `options` (V3 nodes).
 */
export type InputSpec = [string | string[], Record<string, unknown>?] | [string | string[]];

export interface NodeInfo {
  input: {
    required?: Record<string, InputSpec>;
    optional?: Record<string, InputSpec>;
    hidden?: Record<string, unknown>;
  };
  input_order?: Record<string, string[]>;
  output: string[];
  output_is_list?: boolean[];
  output_name?: string[];
  name: string;
  display_name?: string;
  description?: string;
  python_module?: string;
  category?: string;
  output_node: boolean;
  [key: string]: unknown;
}

/** GET /object_info: class_type -> NodeInfo. */
export type ObjectInfo = Record<string, NodeInfo>;

export interface ComfyDevice {
  name: string;
  type: string;
  index: number | null;
  vram_total: number;
  vram_free: number;
  torch_vram_total: number;
  torch_vram_free: number;
}

/** GET /system_stats. */
export interface ComfySystemStats {
  system: {
    os: string;
    ram_total?: number;
    ram_free?: number;
    comfyui_version?: string;
    python_version?: string;
    pytorch_version?: string;
    embedded_python?: boolean;
    argv?: string[];
    [key: string]: unknown;
  };
  devices: ComfyDevice[];
}

/** A file a save node wrote, as /view takes it back. */
export interface ComfyFileRef {
  filename: string;
  subfolder: string;
  type: string;
}

/**
 * One node's UI output in history. SaveImage reports `images`; SaveAnimatedWEBP, SaveWEBM and
 * SaveVideo report `images` plus `animated: [true]`; VideoHelperSuite's VHS_VideoCombine
 * reports `gifs` (with `format` and `frame_rate`).
 */
export interface ComfyNodeOutput {
  images?: ComfyFileRef[];
  gifs?: (ComfyFileRef & { format?: string; frame_rate?: number })[];
  animated?: boolean[];
  [key: string]: unknown;
}

/** One validation reason, as execution.validate_inputs builds it. */
export interface ComfyErrorItem {
  type: string;
  message: string;
  details: string;
  extra_info?: Record<string, unknown>;
}

/** node_errors[node_id] in POST /prompt's 400 answer. */
export interface ComfyNodeError {
  errors: ComfyErrorItem[];
  dependent_outputs: string[];
  class_type: string;
}

export type ComfyNodeErrors = Record<string, ComfyNodeError>;

/** POST /prompt's 400 body: `error` is an object in current ComfyUI, a string ("no prompt") in old ones. */
export interface ComfyPromptErrorBody {
  error: ComfyErrorItem | string;
  node_errors: ComfyNodeErrors | unknown[];
}

export interface ComfyHistoryEntry {
  /** [number, prompt_id, prompt, extra_data, outputs_to_execute] */
  prompt: unknown[];
  outputs: Record<string, ComfyNodeOutput>;
  status?: { status_str: "success" | "error"; completed: boolean; messages: [string, Record<string, unknown>][] };
  meta?: Record<string, unknown>;
}

/** The `execution_error` websocket message's data. */
export interface ComfyExecutionErrorData {
  prompt_id: string;
  node_id: string;
  node_type: string;
  executed: string[];
  exception_message: string;
  exception_type: string;
  traceback: string[];
  current_inputs: unknown;
  current_outputs: unknown;
  timestamp?: number;
}

/** Every websocket message is {type, data}; these are the ones the client reads. */
export type ComfyWsMessage =
  | { type: "status"; data: { status: { exec_info: { queue_remaining: number } }; sid?: string } }
  | { type: "execution_start"; data: { prompt_id: string; timestamp?: number } }
  | { type: "execution_cached"; data: { nodes: string[]; prompt_id: string; timestamp?: number } }
  | { type: "executing"; data: { node: string | null; display_node?: string | null; prompt_id: string } }
  | { type: "progress"; data: { value: number; max: number; prompt_id: string; node: string | null } }
  | { type: "executed"; data: { node: string; display_node?: string; output: ComfyNodeOutput; prompt_id: string } }
  | { type: "execution_success"; data: { prompt_id: string; timestamp?: number } }
  | { type: "execution_error"; data: ComfyExecutionErrorData }
  | { type: "execution_interrupted"; data: { prompt_id: string; node_id: string; node_type: string; executed: string[]; timestamp?: number } };

/** Raw queue entry tuple as GET /queue lists it: [number, prompt_id, prompt, extra_data, outputs_to_execute]. */
export type ComfyQueueItem = [number, string, ApiWorkflow, Record<string, unknown>, string[]];

export interface ComfyQueue {
  queue_running: ComfyQueueItem[];
  queue_pending: ComfyQueueItem[];
}
