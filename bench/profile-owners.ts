/**
 * Where a process's CPU went, by the project file that asked for it: reads a V8 `.cpuprofile`
 * (node --cpu-prof) and charges each sample to the first project file (not node_modules) on
 * its stack, walking from the leaf up; samples with no project frame go to their package
 * ("nm:fastify") or to V8's own buckets ("(garbage collector)", "(program)"). Inclusive
 * times of a profiler's tree charge a Moleculer middleware with all of the action it wraps;
 * this table does not, so a wrapper shows only what it costs itself.
 *
 * Samples can be kept to time windows (µs of the monotonic clock, process.hrtime's: V8's
 * profile timestamps are on the same clock on Linux), e.g. the farm's blocks of a bench, so a
 * process's start-up (module loading, tsx's compile) does not swamp its per-job costs.
 *
 *   node --import tsx bench/profile-owners.ts <file.cpuprofile> [rows]
 */
import fs from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface OwnerRow {
  owner: string;
  ms: number;
}

const PACKAGE = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/;

/**
 * Non-idle sampled ms inside `windows` (all of the profile when none), its split by owner and
 * by leaf function (self time: the frame the sample was taken in), largest first. The owners
 * say which of our files to look at; the leaves say what the time was spent doing (a socket
 * write, a buffer copy, a hash), which "node internals" alone hides.
 */
export function ownersOf(profile: CpuProfile, root: string, windows?: Array<[number, number]>): { busyMs: number; rows: OwnerRow[]; leaves: OwnerRow[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inWindow = (t: number) => !windows || windows.some(([a, b]) => t >= a && t <= b);
  const owners = new Map<string, number>();
  const leaves = new Map<string, number>();
  let busy = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    const leaf = byId.get(profile.samples[i]!)!;
    if (leaf.callFrame.functionName === "(idle)" || !inWindow(t)) continue;
    busy += dt;
    const owner = ownerOf(leaf.id, byId, parent, root);
    owners.set(owner, (owners.get(owner) ?? 0) + dt);
    const leafName = leafLabel(leaf.callFrame, root);
    leaves.set(leafName, (leaves.get(leafName) ?? 0) + dt);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([owner, us]) => ({ owner, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return { busyMs: busy / 1000, rows: sorted(owners), leaves: sorted(leaves) };
}

/** `name (where)`: a project path, `nm:<package>`, a `node:` module, or nothing for V8's and native frames. */
function leafLabel(frame: ProfileNode["callFrame"], root: string): string {
  const name = frame.functionName || "(anonymous)";
  const url = frame.url;
  const pkg = PACKAGE.exec(url);
  const where = pkg ? `nm:${pkg[1]}` : url.includes(root) ? url.slice(url.indexOf(root) + root.length).replace(/^\/+/, "") : url;
  return where ? `${name} (${where})` : name;
}

function ownerOf(id: number, byId: Map<number, ProfileNode>, parent: Map<number, number>, root: string): string {
  let pkg: string | undefined;
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const url = byId.get(cur)!.callFrame.url;
    const m = PACKAGE.exec(url);
    if (m) pkg ??= `nm:${m[1]}`;
    else if (url.includes(root)) return url.slice(url.indexOf(root) + root.length).replace(/^\/+/, "");
  }
  if (pkg) return pkg;
  const leaf = byId.get(id)!.callFrame;
  return leaf.functionName.startsWith("(") ? leaf.functionName : "node internals";
}

/** A markdown table of the first `rows` owners (or, with `by: "leaf"`, leaf functions), ms per job over `jobs`. */
export function ownersTable(res: { busyMs: number; rows: OwnerRow[]; leaves?: OwnerRow[] }, jobs: number, rows = 20, by: "owner" | "leaf" = "owner"): string {
  const out = [by === "leaf" ? "| sampled in (self time) | ms per job | share |" : "| charged to | ms per job | share |", "|---|---|---|"];
  for (const r of (by === "leaf" ? (res.leaves ?? []) : res.rows).slice(0, rows))
    out.push(`| ${r.owner} | ${(r.ms / jobs).toFixed(2)} | ${((100 * r.ms) / res.busyMs).toFixed(1)} % |`);
  out.push(`| all sampled (not idle) | ${(res.busyMs / jobs).toFixed(2)} | 100 % |`);
  return out.join("\n");
}

if (process.argv[1] && import.meta.filename === fs.realpathSync(process.argv[1])) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: profile-owners.ts <file.cpuprofile> [rows]");
  const res = ownersOf(JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile, `${fs.realpathSync(`${import.meta.dirname}/..`)}/`);
  console.log(ownersTable(res, 1, Number(process.argv[3] ?? 30)));
  console.log(`\n${ownersTable(res, 1, Number(process.argv[3] ?? 30), "leaf")}`);
}
