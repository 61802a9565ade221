/**
 * What one open dashboard is sent: per connection, the windows it shows and what it was last
 * sent, so a frame carries only sections and rows that changed. A quiet farm costs a few
 * bytes per tick ({"t":"frame","at":...}); a busy one the rows inside the visible windows.
 */
import type { Frame, ListName, ListSection, ClientMessage } from "./protocol.ts";

type Windows = Record<ListName, [number, number]>;

/** Rows a window may ask for at once: a tall screen shows ~60; more is a client asking for everything. */
export const MAX_WINDOW = 200;

export const DEFAULT_WINDOWS: Windows = { nodes: [0, 40], running: [0, 40], recent: [0, 40] };

/**
 * A client's view message, checked: unknown lists and bad numbers are dropped, not trusted
 * (a negative or huge window would make the server slice and send the whole farm).
 */
export function parseView(raw: unknown): Partial<Windows> | null {
  if (!raw || typeof raw !== "object") return null;
  const m = raw as Partial<ClientMessage>;
  if (m.t !== "view" || !m.view || typeof m.view !== "object") return null;
  const out: Partial<Windows> = {};
  for (const name of ["nodes", "running", "recent"] as const) {
    const w = (m.view as Record<string, unknown>)[name];
    if (!Array.isArray(w) || w.length !== 2) continue;
    const [o, l] = w as unknown[];
    if (!Number.isInteger(o) || !Number.isInteger(l) || (o as number) < 0 || (l as number) < 0) continue;
    out[name] = [Math.min(o as number, 10_000_000), Math.min(l as number, MAX_WINDOW)];
  }
  return out;
}

export class FrameDiffer {
  readonly windows: Windows = { nodes: [...DEFAULT_WINDOWS.nodes], running: [...DEFAULT_WINDOWS.running], recent: [...DEFAULT_WINDOWS.recent] };
  private readonly sentSections = new Map<string, string>();
  private readonly sentRows: Record<ListName, Map<string, string>> = { nodes: new Map(), running: new Map(), recent: new Map() };
  private readonly sentKeys: Record<ListName, string> = { nodes: "", running: "", recent: "" };

  setWindows(w: Partial<Windows>): void {
    for (const [k, v] of Object.entries(w) as [ListName, [number, number]][]) this.windows[k] = v;
  }

  /** A whole small section (totals, queue, gallery), sent when its JSON differs from the last one sent. */
  section<T>(name: string, value: T): T | undefined {
    const json = JSON.stringify(value);
    if (this.sentSections.get(name) === json) return undefined;
    this.sentSections.set(name, json);
    return value;
  }

  /**
   * The window of a long list: the keys it holds and the rows the client does not have yet
   * in this exact form. Undefined when nothing in the window changed.
   */
  list<R extends { id: string }>(name: ListName, all: readonly R[]): ListSection<R> | undefined {
    const [want, limit] = this.windows[name];
    // A window past the end (the list shrank under a scrolled view) shows its last page.
    const offset = Math.max(0, Math.min(want, all.length - limit));
    const slice = all.slice(offset, offset + limit);
    const sent = this.sentRows[name];
    const keys = slice.map((r) => r.id);
    const rows: R[] = [];
    const kept = new Map<string, string>();
    for (const r of slice) {
      const json = JSON.stringify(r);
      if (sent.get(r.id) !== json) rows.push(r);
      kept.set(r.id, json);
    }
    // Only rows in the current window are remembered: the client forgets the others too.
    this.sentRows[name] = kept;
    const head = `${all.length}|${offset}|${keys.join(",")}`;
    if (rows.length === 0 && this.sentKeys[name] === head) return undefined;
    this.sentKeys[name] = head;
    return { total: all.length, offset, keys, rows };
  }

  /** Forget what was sent, so the next frame is complete (after a reconnect the client starts empty). */
  reset(): void {
    this.sentSections.clear();
    for (const n of ["nodes", "running", "recent"] as const) { this.sentRows[n].clear(); this.sentKeys[n] = ""; }
  }
}

/** True when a frame carries nothing but its header (it is then not sent at all). */
export const isEmptyFrame = (f: Frame) => Object.keys(f).every((k) => k === "t" || k === "at");
