/**
 * mesh/discoverer.ts: when a remote node is declared silent. Moleculer's own check (whole
 * seconds, run every heartbeatTimeout) noticed a kill 3-5.5 s after the last heartbeat,
 * fired on an agent restarted under the same id (its old process's silence counted), and
 * declared every node gone while we ourselves were cut off from NATS. Driven here with a
 * manual clock and a stand-in registry: the order of events, not timers.
 */
import assert from "node:assert/strict";
import { describe, it } from "vitest";
import net from "node:net";
import { FarmDiscoverer, IN_FLIGHT_GRACE_MS, beatPeriodMs } from "../../mesh/discoverer.ts";
import { FarmError } from "../../core/errors.ts";

interface FakeNode {
  id: string;
  local: boolean;
  available: boolean;
  instanceID: string;
  seq: number;
  heartbeat(): void;
}

function setup(clock?: () => number) {
  let now = 1_000_000;
  const d = new FarmDiscoverer(undefined, clock ?? (() => now));
  const nodes = new Map<string, FakeNode>();
  const gone: string[] = [];
  const infos: string[] = [];
  const node = (id: string, local = false): FakeNode => ({ id, local, available: true, instanceID: `${id}-1`, seq: 1, heartbeat() {} });
  const internals = d as unknown as Record<string, unknown>;
  internals.opts = { heartbeatInterval: 1, heartbeatTimeout: 2 };
  internals.transit = { connected: true };
  internals.registry = {
    nodes: {
      toArray: () => [...nodes.values()],
      get: (id: string) => nodes.get(id),
      disconnected: (id: string) => {
        gone.push(id);
        nodes.get(id)!.available = false;
      },
    },
  };
  internals.broker = {
    registry: {
      processNodeInfo: (p: { sender: string }) => {
        infos.push(p.sender);
        return nodes.get(p.sender);
      },
    },
  };
  return {
    d,
    nodes,
    gone,
    infos,
    node,
    transit: internals.transit as { connected: boolean },
    advance: (ms: number) => {
      now += ms;
      d.checkRemoteNodes();
    },
  };
}

describe("FarmDiscoverer", () => {
  it("declares a node silent once, heartbeatTimeout after its last packet, in milliseconds", () => {
    const t = setup();
    t.nodes.set("me", t.node("me", true));
    t.nodes.set("a", t.node("a"));
    t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
    t.advance(1900);
    t.advance(100); // exactly 2 s: not more than the timeout
    assert.deepEqual(t.gone, []);
    t.advance(1);
    assert.deepEqual(t.gone, ["a"], "the local node is never checked");
    t.advance(5000);
    assert.deepEqual(t.gone, ["a"], "an unavailable node is not declared again");
  });

  it("a heartbeat in time keeps a node, and a node never stamped gets a full timeout from the first check", () => {
    const t = setup();
    t.nodes.set("a", t.node("a"));
    t.advance(0); // known from the registry, never heard by us: counted from now
    t.advance(1500);
    t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
    t.advance(1500);
    assert.deepEqual(t.gone, []);
    t.advance(600);
    assert.deepEqual(t.gone, ["a"]);
  });

  it("an INFO from a restarted process under the same id is a sign of life: the old process's silence does not unregister the new one", () => {
    const t = setup();
    t.nodes.set("a", t.node("a"));
    t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
    t.advance(1800); // process 1 died just after its heartbeat; process 2 announces itself
    t.d.processRemoteNodeInfo("a", { sender: "a", instanceID: "a-2", seq: 1 });
    assert.deepEqual(t.infos, ["a"], "handed to Moleculer's registry as before");
    t.advance(1000);
    assert.deepEqual(t.gone, [], "2.8 s after process 1's last heartbeat, 1 s after process 2's INFO");
  });

  it("declares nobody while our own NATS connection is down, and gives everyone a fresh timeout after it comes back", () => {
    const t = setup();
    t.nodes.set("a", t.node("a"));
    t.nodes.set("b", t.node("b"));
    t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
    t.d.heartbeatReceived("b", { sender: "b", instanceID: "b-1", seq: 1 });
    t.transit.connected = false;
    t.advance(6000);
    assert.deepEqual(t.gone, []);
    t.transit.connected = true;
    t.advance(250);
    t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
    t.advance(1900);
    assert.deepEqual(t.gone, []);
    t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
    t.advance(200); // b never came back: silent 2.1 s after our reconnect
    assert.deepEqual(t.gone, ["b"]);
  });

  it("follows the NATS client's own disconnect/reconnect events (Moleculer's transporter does not)", async () => {
    const t = setup();
    t.nodes.set("a", t.node("a"));
    const events: { type: string }[] = [];
    let wake: (() => void) | undefined;
    const client = {
      status: () => ({
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (events.length > 0) yield events.shift()!;
            await new Promise<void>((r) => (wake = r));
          }
        },
      }),
    };
    (t.d as unknown as { transit: { connected: boolean; tx: unknown } }).transit.tx = { client };
    const push = async (type: string) => {
      events.push({ type });
      wake?.();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    };
    t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
    t.advance(250); // attaches to the client
    await push("disconnect");
    t.advance(5000);
    assert.deepEqual(t.gone, [], "cut off: silence proves nothing");
    await push("reconnect");
    t.advance(250);
    t.advance(1900);
    assert.deepEqual(t.gone, []);
    t.advance(200);
    assert.deepEqual(t.gone, ["a"], "still silent a full timeout after our reconnect");
  });

  it("an outage shorter than one check still gives every node a fresh timeout after the reconnect (peers reconnect on their own schedule)", async () => {
    let now = 5_000_000;
    const t = setup(() => now);
    t.nodes.set("a", t.node("a"));
    const events: { type: string }[] = [];
    let wake: (() => void) | undefined;
    const client = {
      status: () => ({
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (events.length > 0) yield events.shift()!;
            await new Promise<void>((r) => (wake = r));
          }
        },
      }),
    };
    (t.d as unknown as { transit: { connected: boolean; tx: unknown } }).transit.tx = { client };
    const push = async (type: string) => {
      events.push({ type });
      wake?.();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    };
    t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
    t.d.checkRemoteNodes(); // attaches to the client
    now += 1500;
    t.d.checkRemoteNodes();
    // Cut off and back within 200 ms: no check ran in between.
    await push("disconnect");
    now += 200;
    await push("reconnect");
    now += 50;
    t.d.checkRemoteNodes();
    // "a" is still reconnecting (up to ~750 ms after us): 2.25 s after its last beat, 0.3 s after our reconnect.
    now += 500;
    t.d.checkRemoteNodes();
    assert.deepEqual(t.gone, [], "its silence counts from our reconnect, not from before the outage");
    now += 1800;
    t.d.checkRemoteNodes();
    assert.deepEqual(t.gone, ["a"], "still silent a full timeout after our reconnect");
  });

  it("after a NATS reconnect, ends the calls sent before it that are still unanswered after the grace (their request or reply was lost)", async () => {
    const t = setup();
    const events: { type: string }[] = [];
    let wake: (() => void) | undefined;
    const client = {
      status: () => ({
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (events.length > 0) yield events.shift()!;
            await new Promise<void>((r) => (wake = r));
          }
        },
      }),
    };
    const outcome = new Map<string, unknown>();
    const pending = new Map<string, { action: { name: string }; nodeID: string; reject(err: unknown): void }>();
    const call = (id: string) => pending.set(id, { action: { name: "coordinator.submitMany" }, nodeID: "coord", reject: (err) => outcome.set(id, err) });
    Object.assign((t.d as unknown as { transit: object }).transit, { tx: { client }, pendingRequests: pending });
    t.advance(250);
    call("lost");
    call("answered");
    events.push({ type: "disconnect" }, { type: "reconnect" });
    wake?.();
    await new Promise((r) => setTimeout(r, 50));
    pending.delete("answered"); // its reply came after the reconnect
    call("after"); // sent after the reconnect: not ours to end
    await new Promise((r) => setTimeout(r, IN_FLIGHT_GRACE_MS + 200));
    assert.deepEqual([...outcome.keys()], ["lost"]);
    const err = outcome.get("lost");
    assert.ok(err instanceof FarmError && err.code === "SERVICE_UNAVAILABLE", String(err));
    assert.match(err.message, /coordinator.submitMany on node coord/);
    assert.deepEqual([...pending.keys()], ["after"]);
  });

  it("beats every interval +/- 10 % (Moleculer: +/- 500 ms, up to 1.5 s against the 2 s timeout), sending at once", async () => {
    assert.equal(
      beatPeriodMs(1, () => 0),
      900,
    );
    assert.equal(
      beatPeriodMs(1, () => 1),
      1100,
    );
    const t = setup();
    let sent = 0;
    let cpuSampled = 0;
    Object.assign((t.d as unknown as { transit: object }).transit, { sendHeartbeat: async () => void sent++ });
    Object.assign(t.d as unknown as object, {
      localNode: { updateLocalInfo: () => new Promise((r) => setTimeout(() => r(cpuSampled++), 200)) },
      broker: { getCpuUsage: () => {} },
    });
    void t.d.beat();
    assert.equal(sent, 1, "sent before the CPU is sampled (two 100 ms samples)");
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(cpuSampled, 1, "the CPU figure is refreshed for the next beat");
  });

  it("a stall of our own event loop does not declare a node whose beat arrived meanwhile (the check reads the socket first)", async () => {
    const t = setup(Date.now);
    t.nodes.set("a", t.node("a"));
    Object.assign((t.d as unknown as { transit: object }).transit, { sendHeartbeat: async () => {} });
    // A real socket stands for the NATS connection: its data is a heartbeat from "a".
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const client = net.connect(port, "127.0.0.1");
    client.on("data", () => t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 }));
    const peer = await accepted;
    try {
      t.d.heartbeatReceived("a", { sender: "a", instanceID: "a-1", seq: 1 });
      t.d.startHeartbeatTimers();
      const spin = (ms: number) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
      };
      spin(2100); // our loop is blocked past the 2 s timeout...
      peer.write("beat"); // ...while a's next beat reaches our socket
      spin(300); // the check's timer is now overdue
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual(t.gone, [], "a's beat was read before the check judged it");
    } finally {
      t.d.stopHeartbeatTimers();
      client.destroy();
      peer.destroy();
      server.close();
    }
  });

  it("after our reconnect, ends calls sent to a peer before its first packet (it was still reconnecting: they were dropped), and announces us at once", async () => {
    const t = setup();
    t.nodes.set("coord", t.node("coord"));
    t.nodes.set("agent", t.node("agent"));
    const events: { type: string }[] = [];
    let wake: (() => void) | undefined;
    const client = {
      status: () => ({
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (events.length > 0) yield events.shift()!;
            await new Promise<void>((r) => (wake = r));
          }
        },
      }),
    };
    const beats: number[] = [];
    const outcome = new Map<string, unknown>();
    const pending = new Map<string, { action: { name: string }; nodeID: string; reject(err: unknown): void }>();
    const call = (id: string, nodeID: string) => pending.set(id, { action: { name: "x.y" }, nodeID, reject: (err) => outcome.set(id, err) });
    Object.assign((t.d as unknown as { transit: object }).transit, { tx: { client }, pendingRequests: pending, sendHeartbeat: async () => void beats.push(1) });
    t.advance(250);
    events.push({ type: "disconnect" }, { type: "reconnect" });
    wake?.();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(beats.length, 1, "a heartbeat the moment we are back");
    call("to-coord-early", "coord"); // coord still cut off: this request reaches nobody
    call("to-agent", "agent");
    t.d.heartbeatReceived("coord", { sender: "coord", instanceID: "coord-1", seq: 1 }); // coord is back
    call("to-coord-late", "coord"); // sent after coord was heard: delivered
    await new Promise((r) => setTimeout(r, IN_FLIGHT_GRACE_MS + 200));
    assert.deepEqual([...outcome.keys()], ["to-coord-early"]);
    const err = outcome.get("to-coord-early");
    assert.ok(err instanceof FarmError && err.code === "SERVICE_UNAVAILABLE", String(err));
    assert.match(err.message, /node coord was reconnecting/);
    assert.deepEqual([...pending.keys()].sort(), ["to-agent", "to-coord-late"], "agent not heard yet; coord's later call is answered normally");
    t.d.heartbeatReceived("coord", { sender: "coord", instanceID: "coord-1", seq: 1 });
    await new Promise((r) => setTimeout(r, IN_FLIGHT_GRACE_MS + 200));
    assert.ok(pending.has("to-coord-late"), "only the first packet after a reconnect ends calls");
  });
});
