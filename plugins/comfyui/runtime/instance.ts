/**
 * One ComfyUI server serving one GPU of this node, attached or supervised. Tracks whether it
 * answers (/system_stats), its latest stats (VRAM telemetry) and its /object_info (which
 * weights it has), and counts its lives: each time it comes back after being down (or a
 * supervised process restarts) `life` grows, so cached /object_info is re-read.
 */
import { randomUUID } from "node:crypto";
import { ComfyClient } from "../client/index.ts";
import type { ComfySystemStats, ObjectInfo } from "../client/index.ts";

export type InstanceState = "starting" | "healthy" | "down";

export class ComfyInstance {
  readonly client: ComfyClient;
  state: InstanceState = "starting";
  /** Why it is not healthy (the last failure), for reports. */
  reason = "not checked yet";
  /** Grows each time the server becomes healthy after not being so. */
  life = 0;
  stats: ComfySystemStats | undefined;
  info: ObjectInfo | undefined;
  /** The life and time the cached object_info was read in. */
  infoLife = -1;
  infoAt = 0;

  /**
   * Whether outputs are read from `outputDir` in this life (jobs/local-output.ts): the first
   * output of each life also comes through /view and the two are compared.
   */
  localOutputs: { life: number; state: "verified" | "off"; reason: string } | undefined;

  constructor(
    readonly gpu_index: number,
    readonly url: string,
    requestTimeoutMs: number,
    /** Its output folder as this agent sees it, when known (config `output_dir`, or supervised). */
    readonly outputDir?: string,
  ) {
    // ComfyUI keeps one websocket per client_id and sends a prompt's events to the latest
    // socket of that id: two agents (or a bench's two farms) attached to one ComfyUI with a
    // shared id would take each other's events and wait for theirs forever. One id per
    // instance object, readable in ComfyUI's queue.
    this.client = new ComfyClient({ baseUrl: url, clientId: `nb-farm-gpu${gpu_index}-${randomUUID().slice(0, 8)}`, requestTimeoutMs });
  }

  get label(): string {
    return `ComfyUI on GPU ${this.gpu_index} (${this.url})`;
  }

  /** Poll /system_stats once. Resolves true when the state changed. */
  async check(): Promise<boolean> {
    try {
      this.stats = await this.client.systemStats();
      if (this.state === "healthy") return false;
      this.state = "healthy";
      this.reason = "";
      this.life += 1;
      return true;
    } catch (err) {
      this.reason = err instanceof Error ? err.message : String(err);
      return this.markDown(this.reason);
    }
  }

  /** Mark down (a failed poll, or the supervised process exited). True when it was not down. */
  markDown(reason: string): boolean {
    this.reason = reason;
    this.stats = undefined;
    if (this.state === "down") return false;
    this.state = "down";
    return true;
  }

  private readonly folders = new Map<string, { life: number; at: number; files: string[] }>();

  /** /models/<folder>, cached like object_info (for files loaders find by name). */
  async listFolder(folder: string, now: number, maxAgeMs: number): Promise<string[]> {
    const hit = this.folders.get(folder);
    if (hit && hit.life === this.life && now - hit.at < maxAgeMs) return hit.files;
    const files = await this.client.listModels(folder);
    this.folders.set(folder, { life: this.life, at: now, files });
    return files;
  }

  /** /object_info, re-read after a restart or when older than maxAgeMs. */
  async objectInfo(now: number, maxAgeMs: number): Promise<ObjectInfo> {
    if (this.info && this.infoLife === this.life && now - this.infoAt < maxAgeMs) return this.info;
    const info = await this.client.objectInfo();
    this.info = info;
    this.infoLife = this.life;
    this.infoAt = now;
    return info;
  }
}
