/**
 * ComfyUI's websocket (GET /ws?clientId=...): JSON text frames {type, data} for status and
 * execution events, binary frames for latent previews (ignored here). ComfyUI sends a job's
 * events to the socket whose clientId queued it (PromptServer.send_sync with sid=client_id),
 * so the socket must be open before the prompt is queued or the first events are lost.
 */
import WebSocket from "ws";
import { comfyLost } from "./errors.ts";
import type { ComfyWsMessage } from "./types.ts";

type Listener = (msg: ComfyWsMessage) => void;
type CloseListener = (why: string) => void;

export class ComfyEventStream {
  private readonly ws: WebSocket;
  private readonly listeners = new Set<Listener>();
  private readonly closeListeners = new Set<CloseListener>();
  private closedByUs = false;
  private closeReason: string | undefined;

  private constructor(
    ws: WebSocket,
    private readonly baseUrl: string,
  ) {
    this.ws = ws;
    ws.on("message", (raw, isBinary) => {
      if (isBinary) return; // preview images: [event type u32][format u32][image bytes]
      let msg: ComfyWsMessage;
      try {
        msg = JSON.parse(raw.toString()) as ComfyWsMessage;
      } catch {
        return;
      }
      if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
      for (const l of [...this.listeners]) l(msg);
    });
    ws.on("close", (code, reason) => {
      this.closeReason = `websocket closed (code ${code}${reason.length ? `, ${reason.toString()}` : ""})`;
      if (this.closedByUs) return;
      for (const l of [...this.closeListeners]) l(this.closeReason);
    });
    // After open, errors are followed by close; the close listener reports them.
    ws.on("error", () => undefined);
  }

  /** Opens the socket; rejects with a retryable GPU_ERROR when ComfyUI does not answer. */
  static open(baseUrl: string, clientId: string, timeoutMs: number): Promise<ComfyEventStream> {
    const wsUrl = `${baseUrl.replace(/^http/, "ws")}/ws?clientId=${encodeURIComponent(clientId)}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { handshakeTimeout: timeoutMs });
      const stream = new ComfyEventStream(ws, baseUrl);
      const fail = (why: string) => {
        ws.removeAllListeners("open");
        ws.terminate();
        reject(comfyLost(baseUrl, `websocket ${wsUrl} did not open: ${why}`));
      };
      ws.once("open", () => resolve(stream));
      ws.once("error", (err) => fail(err.message || String(err)));
      ws.once("unexpected-response", (_req, res) => fail(`HTTP ${res.statusCode}`));
    });
  }

  onMessage(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Called once if the server closes the socket (not when we close it). */
  onClose(l: CloseListener): () => void {
    if (this.closeReason !== undefined && !this.closedByUs) {
      queueMicrotask(() => l(this.closeReason ?? "websocket closed"));
    }
    this.closeListeners.add(l);
    return () => this.closeListeners.delete(l);
  }

  close(): void {
    this.closedByUs = true;
    this.listeners.clear();
    this.closeListeners.clear();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  /** Still usable: open and not closed by either side. */
  get isOpen(): boolean {
    return !this.closedByUs && this.closeReason === undefined && this.ws.readyState === WebSocket.OPEN;
  }

  get url(): string {
    return this.baseUrl;
  }
}
