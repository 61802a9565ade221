/** A few DOM helpers. Text always goes in as text (never as HTML): job messages and errors come from users. */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
};

/** A horizontal bar: `pct` of it filled; the label sits on top. */
export function bar(pct: number, label: string, cls = ""): HTMLElement {
  const p = Math.max(0, Math.min(100, pct));
  const fill = h("span", { class: "fill" });
  fill.style.width = `${p}%`;
  return h(
    "span",
    { class: `bar ${cls}`.trim(), "data-pct": Math.round(p), role: "progressbar", "aria-valuenow": Math.round(p), "aria-valuemin": 0, "aria-valuemax": 100 },
    fill,
    h("span", { class: "label" }, label),
  );
}

export const gib = (mb: number) => (mb >= 1024 ? `${(mb / 1024).toFixed(mb >= 10240 ? 0 : 1)} GiB` : `${mb} MiB`);

export function dur(s: number | null): string {
  if (s === null) return "–";
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export const shortId = (id: string) => (id.length > 8 ? id.slice(0, 8) : id);

/**
 * Server time minus this browser's, from each frame's `at`: ages (running for, waiting for)
 * are computed here from instants the server sent, so they tick without any bytes.
 */
let skewMs = 0;
export const setServerNow = (at: number) => {
  skewMs = at - Date.now();
};
export const serverNow = () => Date.now() + skewMs;

/** A span showing the time since `since` (epoch ms); refreshAges() keeps every such span current. */
export function age(since: number | null, cls = "muted"): HTMLElement {
  const el = h("span", { class: `age ${cls}`, "data-since": since ?? undefined });
  el.textContent = since ? dur(Math.max(0, (serverNow() - since) / 1000)) : "–";
  return el;
}

export function refreshAges(root: ParentNode = document): void {
  const now = serverNow();
  for (const el of root.querySelectorAll<HTMLElement>(".age[data-since]")) el.textContent = dur(Math.max(0, (now - Number(el.dataset.since)) / 1000));
}
