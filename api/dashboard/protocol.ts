/**
 * The dashboard's WebSocket protocol (`/ws/farm`), shared by the server (api/dashboard) and
 * the browser code (api/dashboard/ui): types only, so the UI bundle imports nothing at run time.
 *
 * Why this shape: a farm of 1,000 nodes and 10,000 queued jobs must not be shipped to every
 * open dashboard every second. The server sends aggregates (totals, queue per job type), and
 * for each long list only the rows inside the window the browser shows (it says which with
 * a `view` message as the user scrolls). Within a window, only rows that changed since the
 * last frame travel, and of those only the fields that changed; the browser keeps the
 * others by key. Times are sent as instants (epoch ms), not ages, so a row does not change
 * every second just because it grows older. Frames are batched per tick.
 */

/** Browser -> server. */
export type ClientMessage = { t: "view"; view: Partial<Record<ListName, [offset: number, limit: number]>> };

export type ListName = "nodes" | "running" | "recent";

/** [index, name, used MiB, total MiB, utilisation % or null, temperature C or null, simulated 0|1] */
export type GpuCell = [number, string, number, number, number | null, number | null, 0 | 1];

export interface NodeRow {
  id: string;
  /** ready | draining | unavailable (missed heartbeats) */
  state: "ready" | "draining" | "unavailable";
  running: number;
  max: number;
  gpus: GpuCell[];
  /** Resident models: [model id, GPU index or null, in use 0|1] */
  models: [string, number | null, 0 | 1][];
  /** job type -> why the node is blocklisted for it */
  blocked: Record<string, string>;
  /** Why the scheduler skips the node for now, when it does. */
  note: string | null;
}

export interface RunningRow {
  id: string;
  type: string;
  node: string;
  gpu: number | null;
  attempts: number;
  /** 0..100, whole percent (finer steps would only cost bytes). */
  progress: number;
  message: string;
  /** When it started (epoch ms), null when not known yet. */
  started_at: number | null;
}

export interface RecentRow {
  id: string;
  type: string;
  status: "completed" | "failed" | "cancelled";
  /** Run time in seconds (started -> finished), null when it never started. */
  duration_s: number | null;
  /** Queue wait in seconds (created -> started). */
  wait_s: number | null;
  node: string | null;
  attempts: number;
  error: string | null;
  finished_at: number;
}

/** [job type, pending jobs, when the oldest was submitted (epoch ms)] */
export type QueueRow = [string, number, number];

export interface Totals {
  nodes: number;
  draining: number;
  unavailable: number;
  gpus: number;
  simulated_gpus: number;
  vram_used_mb: number;
  vram_total_mb: number;
  /** Mean utilisation over GPUs that report one, or null. */
  util_pct: number | null;
  running: number;
  queued: number;
  /** Jobs in the store by status. */
  counts: Record<string, number>;
}

export interface GalleryItem {
  job: string;
  type: string;
  url: string;
  kind: "image" | "video" | "audio" | "file";
}

/** A row as it travels: whole when the client does not hold it, else only its id and the fields that changed. */
export type RowPatch<R> = Partial<R> & { id: string };

export interface ListSection<R> {
  total: number;
  offset: number;
  /**
   * The keys of the window's rows, in order. Absent when the new keys are `head` followed by
   * the first `keep` keys of the previous window (new jobs on top of a list: the usual case).
   */
  keys?: string[];
  head?: string[];
  keep?: number;
  /** Rows new to the client (whole) or changed (patches); the others it keeps. */
  rows: RowPatch<R>[];
}

export interface Frame {
  t: "frame";
  at: number;
  /** The fields of the totals that changed (all of them in the first frame). */
  totals?: Partial<Totals>;
  queue?: QueueRow[];
  nodes?: ListSection<NodeRow>;
  running?: ListSection<RunningRow>;
  recent?: ListSection<RecentRow>;
  gallery?: GalleryItem[];
  /** Set while the farm cannot be asked (coordinator unreachable): the data shown is from `at`. */
  problem?: string | null;
}

export interface Hello {
  t: "hello";
  /** The API key's name ("anonymous" with auth off). */
  principal: string;
  /** Admin keys get drain/undrain/unblock/cancel controls (the server checks again on each call). */
  admin: boolean;
  tick_ms: number;
}

export type ServerMessage = Hello | Frame;
