export { ComfyClient, type ComfyClientOptions, type RunOptions, type RunResult } from "./client.ts";
export { ComfyEventStream } from "./ws-events.ts";
export { ComfyPromptError, executionError, comfyLost, comfyHttpError, isOutOfMemory, abortError } from "./errors.ts";
export type * from "./types.ts";
