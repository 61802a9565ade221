/**
 * Dead or silent (issue 17 items 6-7): what nats-server's monitoring endpoint says about a
 * node that missed its heartbeats. The shapes are nats-server's /connz and /varz answers
 * (fields as a real 2.9 server sends them, trimmed to what is read).
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { natsMonitorLiveness } from "../../mesh/node-liveness.ts";

const NOW = "2026-12-04T05:40:00.000000000Z";
function server(names: string[], startedAgoS: number, total = names.length): typeof fetch {
  return (async (url: string | URL | Request) => {
    const u = String(url);
    const body = u.includes("/connz")
      ? { now: NOW, total, connections: names.map((name) => ({ name, start: "2026-12-04T05:00:00Z" })) }
      : u.includes("/varz")
        ? { now: NOW, start: new Date(Date.parse(NOW) - startedAgoS * 1000).toISOString() }
        : null;
    return new Response(JSON.stringify(body), { status: body ? 200 : 404 });
  }) as typeof fetch;
}
const probe = (fetchFn: typeof fetch, urls = ["http://127.0.0.1:8222"]) => natsMonitorLiveness({ urls, selfName: "coordinator", fetchFn });

test("a node whose connection is listed is connected (stalled), one that is not is gone (killed)", async () => {
  const p = probe(server(["coordinator", "agent-1", "api"], 3600));
  assert.equal(await p("agent-1"), "connected");
  assert.equal(await p("agent-2"), "gone");
});

test("right after a nats-server restart an absence proves nothing: unknown", async () => {
  assert.equal(await probe(server(["coordinator"], 3))("agent-2"), "unknown");
});

test("unknown when the monitor is down, the list is truncated, we are not on it, or none is configured", async () => {
  const down = (async () => {
    throw new TypeError("fetch failed");
  }) as typeof fetch;
  assert.equal(await probe(down)("agent-2"), "unknown");
  assert.equal(await probe(server(["coordinator"], 3600, 5000))("agent-2"), "unknown");
  assert.equal(await probe(server(["api"], 3600))("agent-2"), "unknown");
  assert.equal(await probe(server(["coordinator"], 3600), [])("agent-2"), "unknown");
});

test("over a cluster a node on any server is connected; gone only when on none", async () => {
  const a = server(["coordinator"], 3600);
  const b = server(["agent-2"], 3600);
  const both = (async (url: string | URL | Request) => (String(url).startsWith("http://b") ? b(url) : a(url))) as typeof fetch;
  const p = probe(both, ["http://a:8222", "http://b:8222"]);
  assert.equal(await p("agent-2"), "connected");
  assert.equal(await p("agent-3"), "gone");
});

test("on a young server a node whose connection closed there is gone (a kill in a farm's first seconds); one never seen there is unknown", async () => {
  const base = server(["coordinator", "api"], 4);
  const withClosed = (async (url: string | URL | Request) =>
    String(url).includes("state=closed")
      ? new Response(JSON.stringify({ now: NOW, total: 1, connections: [{ name: "agent-2", start: "2026-12-04T05:39:57Z", stop: "2026-12-04T05:39:59Z" }] }))
      : base(url)) as typeof fetch;
  const p = probe(withClosed);
  assert.equal(await p("agent-2"), "gone");
  assert.equal(await p("agent-3"), "unknown", "not back yet after a restart: an absence proves nothing");
  // The closed list cannot be read: cannot tell.
  const failing = (async (url: string | URL | Request) =>
    String(url).includes("state=closed") ? new Response("", { status: 500 }) : base(url)) as typeof fetch;
  assert.equal(await probe(failing)("agent-2"), "unknown");
});
