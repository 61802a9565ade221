/**
 * A virtualised list: only the rows in view (plus a margin) exist in the DOM, and only
 * those are asked of the server. The scroll area is sized for the whole list (total x row
 * height), so the scrollbar tells the truth at 10,000 rows.
 */
import type { ListSection } from "../protocol.ts";
import { keysAfter } from "../keys.ts";
import { h } from "./dom.ts";

/**
 * Rows kept beyond the view on each side, as a height: enough for a wheel flick to land on
 * rows that are already here, and no more, since every row in the window is kept current
 * by the feed (bytes per second grow with it).
 */
const MARGIN_PX = 320;

export class VirtualList<R extends { id: string }> {
  private readonly spacer: HTMLElement;
  private readonly rowH: number;
  private readonly cache = new Map<string, R>();
  private readonly els = new Map<string, { el: HTMLElement; row: R }>();
  private keys: string[] = [];
  private offset = 0;
  total = 0;
  private asked: [number, number] = [0, 0];
  private readonly margin: number;
  private scheduled = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly render: (row: R) => HTMLElement,
    private readonly askWindow: (offset: number, limit: number) => void,
    private readonly empty = "none",
  ) {
    this.rowH = Number(host.dataset.row ?? 32);
    this.margin = Math.ceil(MARGIN_PX / this.rowH);
    this.spacer = h("div", { class: "spacer" });
    host.append(this.spacer);
    host.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(host);
  }

  /** The window this list wants now: what is in view, and a margin either side. */
  window(): [number, number] {
    const first = Math.floor(this.host.scrollTop / this.rowH);
    const visible = Math.ceil((this.host.clientHeight || 400) / this.rowH);
    const offset = Math.max(0, first - this.margin);
    return [offset, visible + 2 * this.margin];
  }

  apply(s: ListSection<R>): void {
    // A row the list holds arrives as a patch (its changed fields); a new one whole.
    for (const r of s.rows) {
      const had = this.cache.get(r.id);
      this.cache.set(r.id, (had ? { ...had, ...r } : r) as R);
    }
    const keys = keysAfter(this.keys, s);
    const keep = new Set(keys);
    for (const k of this.cache.keys()) if (!keep.has(k)) this.cache.delete(k);
    this.keys = keys;
    this.offset = s.offset;
    this.total = s.total;
    this.draw();
  }

  /** Rows currently held (for the admin controls and tests). */
  row(id: string): R | undefined {
    return this.cache.get(id);
  }

  redraw(): void {
    for (const v of this.els.values()) v.el.remove();
    this.els.clear();
    this.draw();
  }

  private draw(): void {
    this.spacer.style.height = `${Math.max(this.total * this.rowH, this.total === 0 ? this.rowH : 0)}px`;
    this.spacer.textContent = this.total === 0 ? this.empty : "";
    const seen = new Set<string>();
    this.keys.forEach((k, i) => {
      const row = this.cache.get(k);
      if (!row) return;
      seen.add(k);
      let v = this.els.get(k);
      if (!v || v.row !== row) {
        const el = this.render(row);
        el.classList.add("vrow");
        el.dataset.id = k;
        el.style.height = `${this.rowH}px`;
        if (v) v.el.replaceWith(el);
        else this.host.append(el);
        v = { el, row };
        this.els.set(k, v);
      }
      v.el.style.transform = `translateY(${(this.offset + i) * this.rowH}px)`;
    });
    for (const [k, v] of this.els)
      if (!seen.has(k)) {
        v.el.remove();
        this.els.delete(k);
      }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      const [o, l] = this.window();
      // Ask again only when the view has moved well inside the margin: scrolling by a few rows
      // is served from the rows already here.
      if (Math.abs(o - this.asked[0]) >= this.margin / 2 || l > this.asked[1]) {
        this.asked = [o, l];
        this.askWindow(o, l);
      }
    });
  }

  /** The window asked for on (re)connect. */
  initialWindow(): [number, number] {
    this.asked = this.window();
    return this.asked;
  }
}
