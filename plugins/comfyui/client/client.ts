/**
 * A client for one ComfyUI server's HTTP API and websocket, written from ComfyUI's server.py
 * (routes, status codes and JSON shapes listed in test/fixtures/comfyui/standin.ts's header).
 * node:http on a keep-alive agent for the JSON calls and /view (http-get.ts), global fetch for
 * the multipart upload and the streamed /view, the `ws` package for the websocket. Every
 * failure is a FarmError (see errors.ts for which code and why).
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { FarmError } from "../../../core/errors.ts";
import { comfyHttpError, comfyLost, ComfyPromptError } from "./errors.ts";
import { runPrompt, type RunOptions, type RunResult } from "./run.ts";
import { call, getChunks, keepAliveAgents, type OpenSink } from "./http-get.ts";
import { ComfyEventStream } from "./ws-events.ts";
import type { ApiWorkflow, ComfyFileRef, ComfyHistoryEntry, ComfyPromptErrorBody, ComfyQueue, ComfySystemStats, ObjectInfo } from "./types.ts";

/**
 * The most bytes viewChunks() takes from one /view body: it holds the whole body in memory
 * (the image job keeps it for image_base64). The API caps a side at 4096
 * (core/job-types/image-generate.ts): a 4096² RGBA PNG is 64 MiB even stored uncompressed,
 * 128 MiB at 16 bits (ComfyUI's SaveImage compresses: a 1024² PNG is 1-2 MB); 512 MiB still
 * holds a workflow's 2x upscale of that at 8 bits (256 MiB) twice over. Beyond it the answer is
 * no image output but a misconfigured node or a wrong file: refused before it fills memory.
 * (Videos are streamed to a file by viewStream, without this cap.)
 */
export const VIEW_MAX_BYTES = 512 * 1024 * 1024;

export interface ComfyClientOptions {
  /** e.g. "http://127.0.0.1:8188" (no trailing slash needed). */
  baseUrl: string;
  /** ComfyUI's `client_id`: the one websocket's and every prompt's. Default: random UUID. */
  clientId?: string;
  /** Per HTTP request, ms. Default 30000 (/object_info on a big install takes seconds). */
  requestTimeoutMs?: number;
}

export class ComfyClient {
  readonly baseUrl: string;
  readonly clientId: string;
  private readonly requestTimeoutMs: number;
  /** The websocket every run() follows, opened on first use and again after it closed. */
  private stream: Promise<ComfyEventStream> | null = null;
  private closed = false;
  /**
   * Kept-alive sockets for the JSON calls and view(); destroyed by close(). JSON calls still
   * go out after close() (on new sockets): a run aborted by the plugin's stop must still be
   * able to interrupt its prompt.
   */
  private readonly agents = keepAliveAgents();

  constructor(opts: ComfyClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.clientId = opts.clientId ?? randomUUID();
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  systemStats(): Promise<ComfySystemStats> {
    return this.json<ComfySystemStats>("GET", "/system_stats");
  }

  objectInfo(): Promise<ObjectInfo> {
    return this.json<ObjectInfo>("GET", "/object_info");
  }

  /** GET /models/<folder>: file names ComfyUI finds there; [] when ComfyUI does not know the folder (404). */
  async listModels(folder: string): Promise<string[]> {
    const res = await this.send("GET", `/models/${encodeURIComponent(folder)}`);
    if (res.status === 404) return [];
    return this.parseJson<string[]>(res, "GET", `/models/${folder}`);
  }

  /** POST /upload/image (multipart: image, overwrite, subfolder, type=input). Returns the name to put in LoadImage. */
  async uploadImage(
    bytes: Buffer,
    filename: string,
    opts: { subfolder?: string; overwrite?: boolean } = {},
  ): Promise<{ name: string; subfolder: string; type: string }> {
    const form = new FormData();
    form.append("image", new Blob([new Uint8Array(bytes)]), filename);
    form.append("type", "input");
    if (opts.subfolder) form.append("subfolder", opts.subfolder);
    if (opts.overwrite) form.append("overwrite", "true");
    const res = await this.request("POST", "/upload/image", form);
    return this.parseJson({ status: res.status, text: await res.text() }, "POST", "/upload/image");
  }

  /** POST /prompt. A 400 (validation) becomes ComfyPromptError (MODEL_ERROR) with ComfyUI's node_errors. */
  async queuePrompt(workflow: ApiWorkflow, clientId: string = this.clientId): Promise<{ prompt_id: string; number: number }> {
    const res = await this.send("POST", "/prompt", JSON.stringify({ prompt: workflow, client_id: clientId }), "application/json");
    if (res.status === 400) {
      const text = res.text;
      let body: ComfyPromptErrorBody;
      try {
        body = JSON.parse(text) as ComfyPromptErrorBody;
      } catch {
        throw new FarmError("MODEL_ERROR", `ComfyUI rejected the workflow: ${text.slice(0, 300)}`, { reason: "comfyui_validation" });
      }
      throw ComfyPromptError.fromBody(body);
    }
    return this.parseJson(res, "POST", "/prompt");
  }

  /** GET /history/<id>: the entry, or undefined while the prompt is queued/running or unknown ({}). */
  async history(promptId: string): Promise<ComfyHistoryEntry | undefined> {
    const all = await this.json<Record<string, ComfyHistoryEntry>>("GET", `/history/${encodeURIComponent(promptId)}`);
    return all[promptId];
  }

  /** GET /view: the bytes of an output (or input/temp) file. Through node:http, not fetch: see http-get.ts. */
  async view(ref: ComfyFileRef): Promise<Buffer> {
    const { chunks, size } = await this.viewChunks(ref);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  }

  /**
   * GET /view as the chunks the socket delivered (at most VIEW_MAX_BYTES; `signal` drops the transfer) (no copy into one buffer), each also passed
   * to the sink `open` returns (given the Content-Length) when the 200 answer's headers arrive, if it returns one. Errors as view(); the
   * sink's own failure (open or write) is thrown as it is: a local write failure is not
   * ComfyUI's. After any failure the caller discards what its sink took.
   */
  async viewChunks(ref: ComfyFileRef, open?: OpenSink, signal?: AbortSignal): Promise<{ chunks: Buffer[]; size: number }> {
    const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
    const route = `/view?${q.toString()}`;
    if (this.closed) throw comfyLost(this.baseUrl, "the client was closed");
    const got = await getChunks(`${this.baseUrl}${route}`, this.agents, this.requestTimeoutMs, open, { maxBytes: VIEW_MAX_BYTES, signal });
    // A cancel drops the transfer: the signal's reason (the task runner's JOB_CANCELLED) is the error.
    if (got.kind === "aborted") throw got.reason instanceof Error ? got.reason : new FarmError("JOB_CANCELLED", `GET ${route} was cancelled`);
    if (got.kind === "too_big") {
      throw new FarmError("MODEL_ERROR", `ComfyUI GET ${route} answered over ${VIEW_MAX_BYTES} bytes (${got.size} so far or announced): not read further`, {
        reason: "comfyui_output_too_large",
        max_bytes: VIEW_MAX_BYTES,
      });
    }
    if (got.kind === "timeout") {
      throw new FarmError("TIMEOUT", `ComfyUI GET ${route} did not answer within ${this.requestTimeoutMs} ms`, { base_url: this.baseUrl });
    }
    if (got.kind === "lost") throw comfyLost(this.baseUrl, `GET ${route} failed: ${got.why}`);
    if (got.kind === "sink") throw got.error;
    if (got.status !== 200) throw comfyHttpError(this.baseUrl, "GET", route, got.status, Buffer.concat(got.chunks).toString("utf8"));
    return { chunks: got.chunks, size: got.size };
  }

  /**
   * GET /view as a stream, so the caller can write the file while it arrives (a 1024² PNG is
   * 1-2 MB, a video much more) instead of after. `size` is the Content-Length when sent.
   * A connection lost mid-body errors the stream (undici's "terminated").
   */
  async viewStream(ref: ComfyFileRef): Promise<{ body: Readable; size: number | undefined }> {
    const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
    const route = `/view?${q.toString()}`;
    const res = await this.request("GET", route);
    if (res.status !== 200) throw comfyHttpError(this.baseUrl, "GET", route, res.status, await res.text());
    const len = Number(res.headers.get("content-length") ?? Number.NaN);
    const body = res.body ? Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>) : Readable.from([]);
    return { body, size: Number.isInteger(len) && len >= 0 ? len : undefined };
  }

  /**
   * POST /interrupt. With a prompt id, current ComfyUI interrupts only if that prompt is the one
   * running (so a late cancel cannot kill the next job); without one, whatever runs.
   */
  async interrupt(promptId?: string): Promise<void> {
    const body = promptId === undefined ? undefined : JSON.stringify({ prompt_id: promptId });
    await this.expectOk("POST", "/interrupt", body, body === undefined ? undefined : "application/json");
  }

  /** POST /queue {delete: [...]}: removes prompts still pending (running ones need interrupt()). */
  async deleteQueued(promptIds: string[]): Promise<void> {
    await this.expectOk("POST", "/queue", JSON.stringify({ delete: promptIds }), "application/json");
  }

  queue(): Promise<ComfyQueue> {
    return this.json<ComfyQueue>("GET", "/queue");
  }

  /** POST /free: ComfyUI unloads models / frees cached memory before its next prompt. */
  async free(opts: { unload_models?: boolean; free_memory?: boolean }): Promise<void> {
    await this.expectOk("POST", "/free", JSON.stringify(opts), "application/json");
  }

  /**
   * Queues the workflow under this client's id and follows its messages on the client's
   * websocket until success/error/interrupt; on signal abort: deleteQueued if still queued,
   * interrupt if running, then rejects with an AbortError. Resolves with the outputs.
   */
  run(workflow: ApiWorkflow, opts: RunOptions = {}): Promise<RunResult> {
    return runPrompt(this, this.clientId, workflow, opts);
  }

  /**
   * The client's websocket, shared by all its runs. One socket per ComfyUI instance instead of
   * one per run: opening one (TCP + HTTP upgrade) was ~2 ms on every job's critical path, and
   * ComfyUI sends a prompt's events to the socket of the client_id that queued it, so runs tell
   * theirs apart by prompt_id. A socket the server closed is replaced on the next call; runs
   * that were following it fail as comfyui_lost (their prompt's events are gone with it).
   */
  eventStream(): Promise<ComfyEventStream> {
    if (this.closed) return Promise.reject(comfyLost(this.baseUrl, "the client was closed"));
    const current = this.stream;
    if (current) {
      return current.then(
        (s) => (s.isOpen ? s : this.reopen(current)),
        () => this.reopen(current),
      );
    }
    return this.reopen(null);
  }

  private reopen(stale: Promise<ComfyEventStream> | null): Promise<ComfyEventStream> {
    // Concurrent callers that saw the same dead socket share one new one.
    if (this.stream !== stale && this.stream !== null) return this.eventStream();
    const next = ComfyEventStream.open(this.baseUrl, this.clientId, 10_000);
    this.stream = next;
    next.catch(() => {
      if (this.stream === next) this.stream = null;
    });
    return next;
  }

  /** Closes the websocket (the plugin's close, a test's end); later runs are refused. */
  close(): void {
    this.closed = true;
    this.agents.http.destroy();
    this.agents.https.destroy();
    const s = this.stream;
    this.stream = null;
    void s?.then(
      (x) => x.close(),
      () => undefined,
    );
  }

  // ---- HTTP plumbing ----
  // JSON calls go through node:http (http-get.ts: fewer event-loop turns than fetch, measured
  // there); fetch stays for the multipart upload and the streamed /view, which need its body types.

  /** One call with an optional string body; its answer as text. Connection failures and the deadline are FarmErrors. */
  private async send(method: string, route: string, body?: string, contentType?: string): Promise<{ status: number; text: string }> {
    const got = await call(`${this.baseUrl}${route}`, { method, body, contentType }, this.agents, this.requestTimeoutMs);
    if (got.kind === "timeout") {
      throw new FarmError("TIMEOUT", `ComfyUI ${method} ${route} did not answer within ${this.requestTimeoutMs} ms`, { base_url: this.baseUrl });
    }
    if (got.kind === "lost") throw comfyLost(this.baseUrl, `${method} ${route} failed: ${got.why}`);
    return { status: got.status, text: got.body.toString("utf8") };
  }

  private async request(method: string, route: string, body?: FormData): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${route}`, { method, body, signal: AbortSignal.timeout(this.requestTimeoutMs) });
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      if (e.name === "TimeoutError") {
        throw new FarmError("TIMEOUT", `ComfyUI ${method} ${route} did not answer within ${this.requestTimeoutMs} ms`, { base_url: this.baseUrl });
      }
      // undici reports ECONNREFUSED/ECONNRESET as TypeError("fetch failed") with the code in `cause`.
      throw comfyLost(this.baseUrl, `${method} ${route} failed: ${e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)}`);
    }
  }

  private async json<T>(method: string, route: string): Promise<T> {
    return this.parseJson<T>(await this.send(method, route), method, route);
  }

  private parseJson<T>({ status, text }: { status: number; text: string }, method: string, route: string): T {
    if (status !== 200) throw comfyHttpError(this.baseUrl, method, route, status, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw comfyHttpError(this.baseUrl, method, route, status, `not JSON: ${text.slice(0, 100)}`);
    }
  }

  private async expectOk(method: string, route: string, body?: string, contentType?: string): Promise<void> {
    const res = await this.send(method, route, body, contentType);
    if (res.status !== 200) throw comfyHttpError(this.baseUrl, method, route, res.status, res.text);
  }
}

export type { RunOptions, RunResult };
