import { describe, expect, it } from "vitest";
import { ownersOf, ownersTable, type CpuProfile } from "../../bench/profile-owners.ts";

const ROOT = "/work/main/";
const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });

// root -> idle; root -> middleware (project) -> moleculer timeout (package) -> setTimeout (node);
// root -> (garbage collector); root -> fastify (package) -> writev (native)
const profile: CpuProfile = {
  startTime: 1_000,
  nodes: [
    { id: 1, callFrame: frame("(root)", ""), children: [2, 3, 6, 7] },
    { id: 2, callFrame: frame("(idle)", "") },
    { id: 3, callFrame: frame("call", `file://${ROOT}core/metrics/mesh-middleware.ts`), children: [4] },
    { id: 4, callFrame: frame("timeoutMiddleware", `file://${ROOT}node_modules/moleculer/src/middlewares/timeout.js`), children: [5] },
    { id: 5, callFrame: frame("setTimeout", "node:timers") },
    { id: 6, callFrame: frame("(garbage collector)", "") },
    { id: 7, callFrame: frame("onSend", `file://${ROOT}node_modules/fastify/lib/reply.js`), children: [8] },
    { id: 8, callFrame: frame("writev", "") },
  ],
  // one sample each, 1 ms apart: at 2000 (idle), 3000 (timer under the middleware), 4000 (GC), 5000 (writev), 6000 (timer again)
  samples: [2, 5, 6, 8, 5],
  timeDeltas: [1_000, 1_000, 1_000, 1_000, 1_000],
};

describe("profile owners", () => {
  it("charges each sample to the nearest project frame, else its package, else V8's bucket; idle is left out", () => {
    const res = ownersOf(profile, ROOT);
    expect(res.busyMs).toBe(4);
    expect(res.rows).toEqual([
      { owner: "core/metrics/mesh-middleware.ts", ms: 2 },
      { owner: "(garbage collector)", ms: 1 },
      { owner: "nm:fastify", ms: 1 },
    ]);
  });

  it("keeps only the samples inside the windows (µs of the profile's clock)", () => {
    const res = ownersOf(profile, ROOT, [[3_500, 5_500]]);
    expect(res.busyMs).toBe(2);
    expect(res.rows.map((r) => r.owner)).toEqual(["(garbage collector)", "nm:fastify"]);
  });

  it("also splits the samples by the function they were taken in, with its file, package or module", () => {
    const res = ownersOf(profile, ROOT);
    expect(res.leaves).toEqual([
      { owner: "setTimeout (node:timers)", ms: 2 },
      { owner: "(garbage collector)", ms: 1 },
      { owner: "writev", ms: 1 },
    ]);
    const table = ownersTable(res, 2, 20, "leaf");
    expect(table).toContain("| sampled in (self time) | ms per job | share |");
    expect(table).toContain("| setTimeout (node:timers) | 1.00 | 50.0 % |");
  });

  it("prints ms per job and the shares", () => {
    const table = ownersTable(ownersOf(profile, ROOT), 2);
    expect(table).toContain("| core/metrics/mesh-middleware.ts | 1.00 | 50.0 % |");
    expect(table).toContain("| all sampled (not idle) | 2.00 | 100 % |");
  });
});
