/**
 * The dashboard page: sign in (when the farm has auth on), open the one live feed
 * (/ws/farm), and draw what its frames carry. No framework: the page is a handful of lists
 * that the feed updates in place, which plain DOM does in less code than a framework's setup,
 * and with nothing to download or keep up to date.
 */
import type { Frame, Hello, ListName, NodeRow, RecentRow, RunningRow, ServerMessage, Totals } from "../protocol.ts";
import { $, h, refreshAges, setServerNow } from "./dom.ts";
import { api, ApiError, feedUrl, session } from "./session.ts";
import { VirtualList } from "./virtual-list.ts";
import { nodeRow, queueRows, recentRow, runningRow, totalsBlock, type Controls } from "./rows.ts";
import { drawGallery } from "./gallery.ts";
import { showWhy } from "./why.ts";

let ws: WebSocket | null = null;
let hello: Hello | null = null;
let retryMs = 500;
/** Totals arrive as the fields that changed; this is the whole. */
let totals: Partial<Totals> = {};

const controls: Controls = {
  get admin() {
    return hello?.admin === true;
  },
  act(action, id, b) {
    b.disabled = true;
    const path = action === "cancel" ? `/api/v1/jobs/${encodeURIComponent(id)}/cancel` : `/api/v1/farm/nodes/${encodeURIComponent(id)}/${action}`;
    api("POST", path)
      .then(
        () => toast(`${action} ${id}: done`),
        (err: unknown) => toast(`${action} ${id}: ${err instanceof Error ? err.message : String(err)}`, true),
      )
      .finally(() => {
        b.disabled = false;
      });
  },
};

const send = (m: unknown) => {
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
};
const askWindow = (list: ListName) => (offset: number, limit: number) => send({ t: "view", view: { [list]: [offset, limit] } });

const lists = {
  nodes: new VirtualList<NodeRow>($("nodes"), (r) => nodeRow(r, controls), askWindow("nodes"), "no nodes have joined"),
  running: new VirtualList<RunningRow>($("running"), (r) => runningRow(r, controls), askWindow("running"), "nothing running"),
  recent: new VirtualList<RecentRow>($("recent"), (r) => recentRow(r, (id) => void showWhy(id, controls.admin)), askWindow("recent"), "no finished jobs yet"),
};

function setConn(state: "connecting" | "live" | "offline" | "stale", text: string): void {
  const el = $("conn");
  el.dataset.state = state;
  el.textContent = text;
}

function toast(text: string, bad = false): void {
  const t = h("div", { class: `toast${bad ? " bad" : ""}`, role: "status" }, text);
  document.body.append(t);
  setTimeout(() => t.remove(), bad ? 8000 : 3000);
}

function applyFrame(f: Frame): void {
  setServerNow(f.at);
  if (f.problem !== undefined) {
    const p = $("problem");
    p.hidden = !f.problem;
    p.textContent = f.problem ?? "";
    setConn(f.problem ? "stale" : "live", f.problem ? "farm not answering" : "live");
  }
  if (f.totals) {
    totals = { ...totals, ...f.totals };
    const t = totals as Totals;
    $("totals").replaceChildren(...totalsBlock(t));
    $("nodes-count").textContent = String(t.nodes);
    $("running-count").textContent = String(t.running);
    $("queue-count").textContent = `${t.queued} pending`;
  }
  if (f.queue) $("queue").replaceChildren(...queueRows(f.queue));
  if (f.nodes) lists.nodes.apply(f.nodes);
  if (f.running) lists.running.apply(f.running);
  if (f.recent) {
    lists.recent.apply(f.recent);
    $("recent-count").textContent = String(f.recent.total);
  }
  if (f.gallery) drawGallery($("gallery"), f.gallery);
  refreshAges();
  document.body.dataset.frameAt = String(f.at);
}

function onHello(m: Hello): void {
  const adminChanged = hello?.admin !== m.admin;
  hello = m;
  document.body.dataset.admin = String(m.admin);
  $("who").textContent = `${m.principal}${m.admin ? " (admin)" : " (read only)"}`;
  if (adminChanged) for (const l of Object.values(lists)) l.redraw();
  send({ t: "view", view: { nodes: lists.nodes.initialWindow(), running: lists.running.initialWindow(), recent: lists.recent.initialWindow() } });
}

function connect(): void {
  setConn("connecting", "connecting…");
  const sock = new WebSocket(feedUrl());
  ws = sock;
  let opened = false;
  sock.onopen = () => {
    opened = true;
    retryMs = 500;
    setConn("live", "live");
  };
  sock.onmessage = (ev) => {
    let m: ServerMessage;
    try {
      m = JSON.parse(String(ev.data)) as ServerMessage;
    } catch {
      return;
    }
    if (m.t === "hello") onHello(m);
    else if (m.t === "frame") applyFrame(m);
  };
  sock.onclose = () => {
    if (ws !== sock) return;
    ws = null;
    setConn("offline", "reconnecting…");
    // Refused before it opened: most likely the key (revoked, or a read scope missing). Ask
    // the API why, in words, instead of retrying blindly.
    const next = opened
      ? Promise.resolve()
      : checkKey().then((ok) => {
          if (!ok) throw new Error("signed out");
        });
    next.then(
      () => setTimeout(connect, retryMs),
      () => undefined,
    );
    retryMs = Math.min(retryMs * 2, 10_000);
  };
}

/**
 * True when the key (or no key) may read the farm; otherwise shows the sign-in form with the
 * API's reason. Asked only after the feed refused to open (a WebSocket refusal has no body),
 * with the cheapest read route there is.
 */
async function checkKey(): Promise<boolean> {
  try {
    await api("GET", "/api/v1/jobs/list?limit=1");
    return true;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      showLogin(session.key() ? err.message : "");
      return false;
    }
    return true; // the API is down or busy: keep retrying the feed
  }
}

function showLogin(error: string): void {
  ws?.close();
  ws = null;
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = error;
  $<HTMLInputElement>("key").focus();
}

function start(): void {
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = !session.key();
  connect();
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const k = $<HTMLInputElement>("key").value.trim();
  if (!k) return;
  session.setKey(k);
  $<HTMLInputElement>("key").value = "";
  start();
});

$("logout").addEventListener("click", () => {
  session.clear();
  hello = null;
  showLogin("");
});

start();
