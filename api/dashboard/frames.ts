/**
 * What one open dashboard is sent: per connection, the windows it shows and what it was last
 * sent, so a frame carries only sections and rows that changed. A quiet farm costs a few
 * bytes per tick ({"t":"frame","at":...}); a busy one the rows inside the visible windows.
 */
import type { Frame, ListName, ListSection, ClientMessage, RowPatch } from "./protocol.ts";
import { keysShift } from "./keys.ts";

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

type Row = { id: string } & object;

/** The fields of `now` whose JSON differs from `before`'s (the id always). Null when none differ. */
function patchOf<R extends Row>(before: R, now: R): (Partial<R> & { id: string }) | null {
  const out: Record<string, unknown> = { id: now.id };
  let changed = false;
  for (const [k, v] of Object.entries(now)) {
    if (k === "id") continue;
    const was = (before as Record<string, unknown>)[k];
    if (was === v || JSON.stringify(was) === JSON.stringify(v)) continue;
    out[k] = v;
    changed = true;
  }
  return changed ? (out as Partial<R> & { id: string }) : null;
}

export class FrameDiffer {
  readonly windows: Windows = { nodes: [...DEFAULT_WINDOWS.nodes], running: [...DEFAULT_WINDOWS.running], recent: [...DEFAULT_WINDOWS.recent] };
  private readonly sentSections = new Map<string, string>();
  private sentTotals: Record<string, unknown> | null = null;
  private readonly sentRows: Record<ListName, Map<string, Row>> = { nodes: new Map(), running: new Map(), recent: new Map() };
  private readonly sentKeys: Record<ListName, { total: number; offset: number; keys: string[] }> = {
    nodes: { total: -1, offset: 0, keys: [] },
    running: { total: -1, offset: 0, keys: [] },
    recent: { total: -1, offset: 0, keys: [] },
  };

  setWindows(w: Partial<Windows>): void {
    for (const [k, v] of Object.entries(w) as [ListName, [number, number]][]) this.windows[k] = v;
  }

  /** A whole small section (queue, gallery, problem), sent when its JSON differs from the last one sent. */
  section<T>(name: string, value: T): T | undefined {
    const json = JSON.stringify(value);
    if (this.sentSections.get(name) === json) return undefined;
    this.sentSections.set(name, json);
    return value;
  }

  /** An object section sent as the fields that changed (all of them the first time). */
  fields<T extends object>(value: T): Partial<T> | undefined {
    const before = this.sentTotals;
    this.sentTotals = { ...value } as Record<string, unknown>;
    if (!before) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (JSON.stringify(before[k]) !== JSON.stringify(v)) out[k] = v;
    return Object.keys(out).length ? (out as Partial<T>) : undefined;
  }

  /**
   * The window of a long list: its keys (or how they follow from the last ones) and the rows
   * the client lacks or holds in an older form (as patches). Undefined when nothing changed.
   */
  list<R extends Row>(name: ListName, all: readonly R[]): ListSection<R> | undefined {
    const [want, limit] = this.windows[name];
    // A window past the end (the list shrank under a scrolled view) shows its last page.
    const offset = Math.max(0, Math.min(want, all.length - limit));
    const slice = all.slice(offset, offset + limit);
    const sent = this.sentRows[name];
    const rows: RowPatch<R>[] = [];
    const kept = new Map<string, Row>();
    for (const r of slice) {
      const before = sent.get(r.id) as R | undefined;
      if (!before) rows.push(r);
      else if (before !== r) {
        const p = patchOf(before, r);
        if (p) rows.push(p);
      }
      kept.set(r.id, r);
    }
    // Only rows in the current window are remembered: the client forgets the others too.
    this.sentRows[name] = kept;
    const keys = slice.map((r) => r.id);
    const prev = this.sentKeys[name];
    this.sentKeys[name] = { total: all.length, offset, keys };
    const shift = offset === prev.offset ? keysShift(prev.keys, keys) : null;
    if (rows.length === 0 && prev.total === all.length && shift && shift.head.length === 0 && shift.keep === keys.length && prev.keys.length === keys.length)
      return undefined;
    return shift ? { total: all.length, offset, head: shift.head, keep: shift.keep, rows } : { total: all.length, offset, keys, rows };
  }

  /** Forget what was sent, so the next frame is complete (after a reconnect the client starts empty). */
  reset(): void {
    this.sentSections.clear();
    this.sentTotals = null;
    for (const n of ["nodes", "running", "recent"] as const) {
      this.sentRows[n].clear();
      this.sentKeys[n] = { total: -1, offset: 0, keys: [] };
    }
  }
}

/** True when a frame carries nothing but its header (it is then not sent at all). */
export const isEmptyFrame = (f: Frame) => Object.keys(f).every((k) => k === "t" || k === "at");
