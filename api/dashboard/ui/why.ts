/** A finished job's detail: where the scheduler placed it and why (admin keys: /jobs/{id}/why), or its record. */
import { $, h } from "./dom.ts";
import { api } from "./session.ts";

interface Why {
  job_id: string;
  type: string;
  status: string;
  node_id?: string;
  attempts?: number;
  max_attempts?: number;
  decision?: { verdict?: string; node_id?: string; gpu_index?: number | null; reasons?: Record<string, string> } | null;
  history?: { at: number; event: string; node_id?: string; reason?: string }[];
}

const table = (head: string[], rows: string[][]) =>
  h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...head.map((x) => h("th", {}, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((x) => h("td", {}, x))))),
  );

export async function showWhy(id: string, admin: boolean): Promise<void> {
  const box = $("why");
  box.hidden = false;
  const close = h("button", { type: "button", class: "close" }, "close");
  close.addEventListener("click", () => {
    box.hidden = true;
  });
  box.replaceChildren(h("p", {}, `job ${id}: loading…`));
  try {
    if (!admin) {
      const j = await api<{ job_id: string; type: string; status: string; node_id: string | null; attempts: number; error: string | null }>(
        "GET",
        `/api/v1/jobs/${encodeURIComponent(id)}`,
      );
      box.replaceChildren(
        close,
        h("h3", {}, `${j.type} ${j.job_id}`),
        h("p", {}, `${j.status} on ${j.node_id ?? "–"} after ${j.attempts} attempt(s)${j.error ? `: ${j.error}` : ""}`),
        h("p", { class: "muted" }, "Placement reasons are shown to admin keys."),
      );
      return;
    }
    const w = await api<Why>("GET", `/api/v1/jobs/${encodeURIComponent(id)}/why`);
    const d = w.decision;
    box.replaceChildren(
      close,
      h("h3", {}, `${w.type} ${w.job_id}: ${w.status}`),
      h(
        "p",
        {},
        `placement: ${d?.verdict ?? "–"}${d?.node_id ? ` → ${d.node_id}${typeof d.gpu_index === "number" ? ` gpu${d.gpu_index}` : ""}` : ""}; attempts ${w.attempts ?? 0}/${w.max_attempts ?? "?"}`,
      ),
      d?.reasons && Object.keys(d.reasons).length
        ? table(["Node", "Why (not) there"], Object.entries(d.reasons))
        : h("p", { class: "muted" }, "no per-node reasons recorded"),
      w.history?.length
        ? table(
            ["At", "Event", "Node", "Reason"],
            w.history.map((e) => [new Date(e.at).toLocaleTimeString(), e.event, e.node_id ?? "", e.reason ?? ""]),
          )
        : "",
    );
  } catch (err) {
    box.replaceChildren(close, h("p", { class: "error" }, `job ${id}: ${err instanceof Error ? err.message : String(err)}`));
  }
}
