/** One row of each list, and the totals and queue blocks, as DOM. */
import type { GpuCell, NodeRow, QueueRow, RecentRow, RunningRow, Totals } from "../protocol.ts";
import { age, bar, dur, gib, h, shortId } from "./dom.ts";

export interface Controls {
  admin: boolean;
  act(action: "drain" | "undrain" | "unblock" | "cancel", id: string, button: HTMLButtonElement): void;
}

const button = (c: Controls, action: "drain" | "undrain" | "unblock" | "cancel", id: string, label: string) => {
  const b = h("button", { type: "button", class: `act ${action}`, "data-action": action, "data-target": id }, label);
  b.addEventListener("click", (ev) => {
    ev.stopPropagation();
    c.act(action, id, b);
  });
  return b;
};

function gpuCell(g: GpuCell, models: NodeRow["models"]): HTMLElement {
  const [index, name, used, total, util, temp, sim] = g;
  const here = models.filter((m) => m[1] === index);
  return h(
    "div",
    { class: "gpu", title: `${name}${sim ? " (simulated)" : ""}` },
    h(
      "span",
      { class: "gname" },
      `gpu${index} ${name}`,
      sim ? h("span", { class: "badge sim", title: "declared in config for tests and drills; not a real GPU" }, "sim") : null,
    ),
    bar(total ? (used / total) * 100 : 0, `${gib(used)} / ${gib(total)}`, "vram"),
    h("span", { class: "util" }, util === null ? "util n/a" : `${util}%`),
    h("span", { class: "temp" }, temp === null ? "" : `${temp}°C`),
    here.length
      ? h("span", { class: "models" }, ...here.map((m) => h("span", { class: `chip${m[2] ? " busy" : ""}`, title: m[2] ? "in use" : "resident, idle" }, m[0])))
      : null,
  );
}

export function nodeRow(n: NodeRow, c: Controls): HTMLElement {
  const blocked = Object.entries(n.blocked);
  const cpuModels = n.models.filter((m) => m[1] === null);
  return h(
    "div",
    { class: `node ${n.state}` },
    h(
      "div",
      { class: "line" },
      h("strong", { class: "nid" }, n.id),
      h("span", { class: `badge ${n.state}`, title: n.note ?? "" }, n.state),
      h("span", { class: "jobs" }, `${n.running}/${n.max || "?"} jobs`),
      blocked.length
        ? h("span", { class: "badge blocked", title: blocked.map(([t, w]) => `${t}: ${w}`).join("\n") }, `blocklisted: ${blocked.map(([t]) => t).join(", ")}`)
        : null,
      cpuModels.length ? h("span", { class: "models" }, "cpu:", ...cpuModels.map((m) => h("span", { class: "chip" }, m[0]))) : null,
      c.admin
        ? h(
            "span",
            { class: "actions" },
            n.state === "draining" ? button(c, "undrain", n.id, "Undrain") : button(c, "drain", n.id, "Drain"),
            blocked.length ? button(c, "unblock", n.id, "Unblock") : null,
          )
        : null,
    ),
    h("div", { class: "gpus" }, ...(n.gpus.length ? n.gpus.map((g) => gpuCell(g, n.models)) : [h("span", { class: "muted" }, "CPU only")])),
  );
}

export function runningRow(r: RunningRow, c: Controls): HTMLElement {
  return h(
    "div",
    { class: "job running" },
    h("span", { class: "jid", title: r.id }, shortId(r.id)),
    h("span", { class: "type" }, r.type),
    h("span", { class: "where" }, `${r.node}${r.gpu !== null ? ` gpu${r.gpu}` : ""}`),
    bar(r.progress, `${r.progress}%${r.message ? ` ${r.message}` : ""}`, "progress"),
    age(r.started_at),
    r.attempts > 1 ? h("span", { class: "badge retry", title: "attempt" }, `#${r.attempts}`) : null,
    c.admin ? button(c, "cancel", r.id, "Cancel") : null,
  );
}

export function recentRow(r: RecentRow, open: (id: string) => void): HTMLElement {
  const el = h(
    "div",
    { class: `job recent ${r.status}`, tabindex: 0, title: "placement and history" },
    h("span", { class: `badge ${r.status}` }, r.status),
    h("span", { class: "type" }, r.type),
    h("span", { class: "jid", title: r.id }, shortId(r.id)),
    h("span", { class: "num", title: "run time" }, dur(r.duration_s)),
    h("span", { class: "num muted", title: "waited in queue" }, r.wait_s === null ? "" : `waited ${dur(r.wait_s)}`),
    h("span", { class: "where" }, r.node ?? "–"),
    h("span", { class: "num", title: "attempts" }, `×${r.attempts}`),
    h("span", { class: "err", title: r.error ?? "" }, r.error ?? ""),
  );
  el.addEventListener("click", () => open(r.id));
  el.addEventListener("keydown", (e) => {
    if (e.key === "Enter") open(r.id);
  });
  return el;
}

export function totalsBlock(t: Totals): HTMLElement[] {
  const card = (label: string, value: string | HTMLElement, sub = "", key = "") =>
    h(
      "div",
      { class: "card", "data-key": key || undefined },
      h("span", { class: "k" }, label),
      typeof value === "string" ? h("span", { class: "v" }, value) : value,
      sub ? h("span", { class: "sub" }, sub) : null,
    );
  const c = t.counts;
  return [
    card(
      "Nodes",
      String(t.nodes),
      [t.draining ? `${t.draining} draining` : "", t.unavailable ? `${t.unavailable} unavailable` : ""].filter(Boolean).join(", "),
      "nodes",
    ),
    card("GPUs", String(t.gpus), t.simulated_gpus ? `${t.simulated_gpus} simulated` : "", "gpus"),
    card("VRAM", bar(t.vram_total_mb ? (t.vram_used_mb / t.vram_total_mb) * 100 : 0, `${gib(t.vram_used_mb)} / ${gib(t.vram_total_mb)}`, "vram"), "", "vram"),
    card("GPU util", t.util_pct === null ? "n/a" : `${t.util_pct}%`, "mean", "util"),
    card("Running", String(t.running), "", "running"),
    card("Queued", String(t.queued), "", "queued"),
    card("Completed", String(c.completed ?? 0), "", "completed"),
    card("Failed", String(c.failed ?? 0), c.cancelled ? `${c.cancelled} cancelled` : "", "failed"),
  ];
}

export function queueRows(q: QueueRow[]): HTMLElement[] {
  if (q.length === 0) return [h("tr", {}, h("td", { colspan: 3, class: "muted" }, "empty"))];
  return q.map(([type, n, oldest]) =>
    h("tr", { "data-type": type }, h("td", {}, type), h("td", { class: "num" }, String(n)), h("td", { class: "num" }, age(oldest || null, ""))),
  );
}
