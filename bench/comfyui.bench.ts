/**
 * Farm overhead per image job over calling ComfyUI directly. The ComfyUI stand-in runs in its
 * own process (test/fixtures/comfyui/standin-main.ts) with a fixed 200 ms generation
 * (sdxl-turbo, 4 sampler steps x 50 ms) and writes a real 512x512 PNG. Two ways to get one
 * image, one request at a time, alternating in rounds so drift hits both alike:
 *  - direct: ComfyClient.run() of the same workflow the plugin builds (websocket + /prompt +
 *    /history) and /view of the PNG: what any ComfyUI client pays;
 *  - farm: POST /api/v1/generate/image (synchronous) to an embedded farm in its own process
 *    (API + coordinator + agent, rate limits off) whose agent is attached to the same stand-in:
 *    HTTP + validation, job store, scheduling, dispatch, the plugin's upload/run/view, the PNG
 *    written to the artifact store, the result back through the job events.
 * Added = farm - direct per percentile, pooled over the run (the rows kept from earlier sessions).
 * Target: p50 added <= 5 ms.
 *
 * Why runs of 120-240 jobs per path gave 2.6 to 6.9 ms for the same code: the paths already ran
 * interleaved (ABBA blocks of 5 per round), so slow drift of the machine was not it; a p50 added
 * is the difference of two medians whose own spread is set by each path's tens of ms, and the
 * pooled row gave no interval to show that. Each run now also prints the p50 added with a 95 %
 * block-bootstrap interval over rounds and its value per block of 4 rounds (bench/paired.ts), and
 * decides the target only when the whole interval is on one side of it; and the same figures with
 * ComfyUI's own execution time (from its history) taken out of each job, which removes the
 * generation's spread from both paths (see pairedReport).
 *
 * The plugin reads its output node's files off the websocket's `executed` message instead of
 * asking GET /history (run({outputNode})). A direct client can do the same, so a third path,
 * "direct, outputs off the websocket", is measured in the same rounds and the farm's cost is
 * also given over it: that row is the farm's own overhead with the client's shortcut on both
 * sides; the first is the overhead over the usual client flow (ComfyUI's
 * script_examples/websockets_api_example.py: queue, wait for executing null, /history, /view). For scale, the same farm's
 * fixed cost of any job (diag.echo through POST /api/v1/jobs?wait=true, no generation) is
 * measured in the same rounds, and the machine's load average is printed: on a shared
 * 2-core machine every process's CPU time is on the farm path's critical path.
 *
 * Each run also prints the farm process's CPU per image job (/proc, over the farm's blocks) beside
 * the direct client's (process.cpuUsage over its blocks): on a 2-core machine every CPU ms of a
 * process on the path waits for a core, and CPU time moves less with load than wall time.
 *
 * With --spans the farm process records timing marks along each image job's path
 * (core/perf-spans.ts, NB_PERF_SPANS) and a table gives the p50 of each step between them,
 * from the bench's POST (client_post) to its parsed answer (client_answer) on the same clock;
 * a run for the figures leaves it off (the marks append a line to a file per job).
 *
 * With --cpu-prof the farm process runs under node --cpu-prof and, once it has stopped, a table
 * charges its sampled CPU inside the farm's blocks to the project file that asked for it
 * (bench/profile-owners.ts), per image job; start-up is left out. The profiler's own cost is in
 * the figures, so a run for the figures leaves it off too.
 *
 * With --prof-out DIR as well, the profiles and the blocks' windows (windows.json) are kept there,
 * with the spans (spans.jsonl, with --spans) and a reading of both clocks (clock.json).
 *
 * With --spans --cpu-prof --prof-between A,B, one more table: what the farm process did between
 * marks A and B of each image job (e.g. comfy_done,stored: /view and the PNG's write), the
 * samples charged as above plus the share of that time it sat idle (waiting on a socket).
 * That showed the farm idle for most of comfy_done -> stored at load ~3.5: the wait is
 * ComfyUI's (the stand-in's stat + readFile before it answers), which a direct client waits too.
 *
 * Two farms, both embedded and attached to the same stand-in by URL, are measured in the same
 * rounds (their order swapped every round): "farm, outputs from disk", told the stand-in's
 * output folder (`output_dir`; the stand-in saves there as ComfyUI's --output-directory), the
 * shape of a farm whose agent runs on ComfyUI's machine (a supervised ComfyUI always is): the
 * PNG is hard-linked into the artifact store, no /view (the first output of a life is also
 * fetched through /view once, in the warm-up, to verify the folder; plugins/comfyui/jobs/
 * local-output.ts); and "farm, outputs over /view", not told the folder, as for a ComfyUI on
 * another machine. One more direct path is measured in the same rounds for fairness, a direct
 * client that also reads the file from disk instead of /view, and the farm's cost over it is
 * given too: the farm's own overhead when both sides take the shortcut. The target's verdict is
 * over the usual direct client (/history + /view, as the issue's figure has always been), for
 * each farm, named. --spans, --cpu-prof and the farm CPU figure follow the from-disk farm (the
 * other's CPU is printed too).
 *
 *   node --import tsx bench/comfyui.bench.ts [--jobs 240] [--spans] [--cpu-prof [--prof-out DIR] [--prof-between A,B]]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { ComfyClient } from "../plugins/comfyui/client/index.ts";
import { call, keepAliveAgents } from "../plugins/comfyui/client/http-get.ts";
import { buildWorkflow } from "../plugins/comfyui/workflows/index.ts";
import { spawnRole } from "../deploy/servers/farm-procs.ts";
import { freePort, waitForPort } from "../deploy/servers/infra.ts";
import { pct } from "./load.ts";
import { addedP50, bootstrapInterval, perBlock, verdict, type Round } from "./paired.ts";
import { ownersOf, ownersTable, type CpuProfile } from "./profile-owners.ts";

// 240 per path (24 rounds): on a shared 2-core machine the spread is tens of ms, and the median of 60 moved by ±10 ms
// between runs; with 120, three idle runs put "added" at 2.6, 5.6 and 5.5 ms (the difference of two medians; each one's
// error shrinks with the square root of the count). The interval printed with it says how far one run's figure can be trusted.
// About 6 min idle (a round is 60 jobs: echo, three direct paths and two farms; it was 4 min with one farm).
const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "240" },
    spans: { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    "prof-out": { type: "string" },
    "prof-between": { type: "string" },
  },
});
const JOBS = Number(values.jobs);
const STEPS = 4;
const STEP_MS = 50;
const SIZE = 512;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfybench-"));
const spansFile = path.join(dir, "spans.jsonl");
const profDir = path.join(dir, "cpu-prof");
// The farm's blocks as [start, end] µs of the monotonic clock, the profile's clock (--cpu-prof).
const farmWindows: Array<[number, number]> = [];
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
/** ComfyUI's --output-directory: the from-disk farm and the from-disk direct client read it. */
const outDir = path.join(dir, "comfy-output");
const standin = spawn(
  process.execPath,
  [
    "--import",
    "tsx",
    path.join(import.meta.dirname, "../test/fixtures/comfyui/standin-main.ts"),
    "--port",
    "0",
    "--models-json",
    JSON.stringify({ checkpoints: ["sd_xl_turbo_1.0_fp16.safetensors"] }),
    "--step-ms",
    String(STEP_MS),
    "--output-directory",
    outDir,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const comfyPort = await new Promise<number>((resolve, reject) => {
  let out = "";
  standin.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    const m = /COMFY_STANDIN_PORT=(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
  standin.once("exit", (c) => reject(new Error(`stand-in exited ${c}`)));
});
const comfyUrl = `http://127.0.0.1:${comfyPort}`;
/** An embedded farm attached to the stand-in; `fromDisk`: told its output folder. Spans and profiles: the from-disk farm's. */
async function startFarm(fromDisk: boolean) {
  const port = await freePort();
  const dataDir = path.join(dir, fromDisk ? "farm-disk" : "farm-http");
  fs.mkdirSync(dataDir);
  const role = spawnRole("farm", "all", {
    FARM_MODE: "embedded",
    FARM_LOG_LEVEL: "error",
    FARM_API__PORT: String(port),
    FARM_PATHS__DATA_DIR: dataDir,
    FARM_API__RATE_LIMITS__ENABLED: "false",
    FARM_AGENT__PLUGINS: '["comfyui","diag"]',
    FARM_AGENT__GPU_PROBE: "none",
    FARM_PLUGINS__COMFYUI__INSTANCES: JSON.stringify([{ url: comfyUrl, gpu_index: 0, ...(fromDisk ? { output_dir: outDir } : {}) }]),
    ...(fromDisk && values.spans ? { NB_PERF_SPANS: spansFile } : {}),
    ...(fromDisk && values["cpu-prof"] ? { NB_ROLE_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${profDir}` } : {}),
  });
  return { port, role };
}
const diskFarm = await startFarm(true);
const httpFarm = await startFarm(false);
const apiPort = diskFarm.port;
const farm = diskFarm.role;

const client = new ComfyClient({ baseUrl: comfyUrl });
let seed = 1;
/** The /view part of each "direct, outputs off the websocket" job, ms: the farm's comfy_done -> stored span does the same call and the PNG's write. */
const directView: number[] = [];
async function direct(outputsOffSocket = false, fromDisk = false): Promise<number> {
  const t0 = performance.now();
  const built = buildWorkflow("sdxl-turbo", { mode: "t2i", prompt: "a lighthouse at dusk", width: SIZE, height: SIZE, steps: STEPS, seed: seed++ });
  const res = await client.run(built.workflow, outputsOffSocket ? { outputNode: built.outputNode } : {});
  const file = res.outputs[built.outputNode]?.images?.[0];
  if (!file) throw new Error("no output");
  const tView = performance.now();
  // A client on ComfyUI's machine can read the saved file itself (as the farm's agent does with output_dir).
  const png = fromDisk ? fs.readFileSync(path.join(outDir, file.subfolder, file.filename)) : await client.view(file);
  if (png.length < 100) throw new Error("short PNG");
  const t1 = performance.now();
  if (outputsOffSocket) directView.push(t1 - tView);
  return t1 - t0;
}

const body = () => JSON.stringify({ prompt: "a lighthouse at dusk", model: "sdxl-turbo", width: SIZE, height: SIZE, steps: STEPS, seed: seed++ });
/** Per successful farm request, in order: when the POST started and when its answer was parsed (ms since the epoch), for --spans. */
const farmWire: Array<[number, number]> = [];
async function viaFarm(port = apiPort): Promise<number> {
  const t0 = performance.now();
  const res = await postJson(`http://127.0.0.1:${port}/api/v1/generate/image`, body());
  const j = res.json as { status?: string; image_url?: string; metadata?: { resolution?: string } };
  if (res.status !== 200 || j.status !== "completed" || j.metadata?.resolution !== `${SIZE}x${SIZE}`)
    throw new Error(`farm answered ${res.status}: ${JSON.stringify(j)}`);
  const t1 = performance.now();
  if (port === apiPort) farmWire.push([performance.timeOrigin + t0, performance.timeOrigin + t1]);
  return t1 - t0;
}

/** The farm process's CPU time so far (user + system, ms) from /proc: clock ticks, summed over many jobs. NaN off Linux. */
function farmCpuMs(pid = farm.child.pid): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}
// USER_HZ: 100 on every Linux build in use (getconf CLK_TCK).
const CLK_TCK = 100;

/**
 * The bench's requests to the farm go through the same HTTP stack as the direct client's to
 * ComfyUI (node:http on a kept-alive connection, plugins/comfyui/client/http-get.ts), so the
 * farm's extra hop is not also a change of client library: global fetch took ~4 ms more wall per
 * small call than http.request at load ~12 (http-get.ts header). Any real client keeps its
 * connection alive between requests the same way (browsers, requests.Session, httpx, undici).
 */
const farmAgents = keepAliveAgents();
async function postJson(url: string, text: string): Promise<{ status: number; json: unknown }> {
  const got = await call(url, { method: "POST", body: text, contentType: "application/json" }, farmAgents, 120_000);
  if (got.kind !== "ok") throw new Error(`POST ${url}: ${got.kind === "lost" ? got.why : "timeout"}`);
  return { status: got.status, json: JSON.parse(got.body.toString("utf8")) as unknown };
}

async function echo(): Promise<number> {
  const t0 = performance.now();
  const res = await postJson(`http://127.0.0.1:${apiPort}/api/v1/jobs?wait=true`, JSON.stringify({ type: "diag.echo", params: { i: seed++ } }));
  const j = res.json as { status?: string };
  if (res.status !== 200 || j.status !== "completed") throw new Error(`diag.echo answered ${res.status}: ${JSON.stringify(j)}`);
  return performance.now() - t0;
}

try {
  for (const { port, role } of [diskFarm, httpFarm]) {
    await waitForPort(port, 60_000).catch((err: unknown) => {
      // Say why: the farm process's own output (a crash at start, a port taken).
      console.error(role.output().slice(-4000));
      throw err;
    });
    // The node offers sdxl-turbo once it has read the stand-in's /object_info.
    for (let i = 0; ; i++) {
      try {
        await viaFarm(port);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  // Warm every path (the from-disk farm's first output, already taken above, verified its folder).
  for (let i = 0; i < 5; i++) (await direct(), await direct(true), await direct(true, true), await viaFarm(), await viaFarm(httpFarm.port));
  // Per round, each path's times (ms) and the seed each job ran with (it finds the job's prompt in ComfyUI's history).
  const rounds: Round[] = [];
  const seeds: Record<string, number[]>[] = [];
  const timed = async (r: number, key: string, job: () => Promise<number>) => {
    const s = seed; // every job takes the next seed first
    const ms = await job();
    (rounds[r]![key] ??= []).push(ms);
    (seeds[r]![key] ??= []).push(s);
  };
  const load0 = os.loadavg()[0]!;
  let farmCpu = 0;
  let httpFarmCpu = 0;
  let directCpu = 0;
  let cpuW0: NodeJS.CpuUsage;
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  for (let round = 0; round < JOBS / 10; round++) {
    rounds.push({});
    seeds.push({});
    for (let i = 0; i < 5; i++) await timed(round, "e", echo);
    for (let i = 0; i < 5; i++) await timed(round, "d", () => direct());
    cpuW0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) await timed(round, "w", () => direct(true));
    directCpu += cpuMs(process.cpuUsage(cpuW0));
    for (let i = 0; i < 5; i++) await timed(round, "k", () => direct(true, true));
    // The two farms, in swapped order every other round ("f": from disk, "h": over /view).
    for (const fromDisk of round % 2 === 0 ? [true, false] : [false, true]) {
      if (fromDisk) {
        const cpu0 = farmCpuMs();
        const t0 = nowUs();
        for (let i = 0; i < 10; i++) await timed(round, "f", () => viaFarm());
        farmWindows.push([t0, nowUs()]);
        farmCpu += farmCpuMs() - cpu0;
      } else {
        const cpu0 = farmCpuMs(httpFarm.role.child.pid);
        for (let i = 0; i < 10; i++) await timed(round, "h", () => viaFarm(httpFarm.port));
        httpFarmCpu += farmCpuMs(httpFarm.role.child.pid) - cpu0;
      }
    }
    for (let i = 0; i < 5; i++) await timed(round, "k", () => direct(true, true));
    cpuW0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) await timed(round, "w", () => direct(true));
    directCpu += cpuMs(process.cpuUsage(cpuW0));
    for (let i = 0; i < 5; i++) await timed(round, "d", () => direct());
  }
  const load1 = os.loadavg()[0]!;
  const all = (k: string) => rounds.flatMap((r) => r[k] ?? []).sort((a, b) => a - b);
  const d = all("d");
  const w = all("w");
  const f = all("f");
  const e = all("e");
  const k = all("k");
  const h = all("h");
  const ms = (x: number) => x.toFixed(1);
  const row = (label: string, xs: number[]) => `| ${label} | ${xs.length} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 90))} | ${ms(pct(xs, 99))} |`;
  console.log(
    `Generation fixed at ${STEPS} steps x ${STEP_MS} ms = ${STEPS * STEP_MS} ms (sdxl-turbo workflow, ${SIZE}x${SIZE} PNG), one request at a time, ` +
      `${rounds.length} rounds of 10 jobs per path (ABBA order; the two farms' order swapped every round); two embedded farms attached by URL, ` +
      `one told ComfyUI's output folder (output_dir: the PNG hard-linked into the artifact store), one not (GET /view, as for a remote ComfyUI). Load average (1 min) at start / end: ${load0.toFixed(1)} / ${load1.toFixed(1)} on ${os.cpus().length} cores.\n`,
  );
  console.log("| path | jobs | p50 ms | p90 ms | p99 ms |");
  console.log("|---|---|---|---|---|");
  console.log(row("direct: ComfyClient.run (/history) + /view", d));
  console.log(row("direct, outputs off the websocket: ComfyClient.run({outputNode}) + /view", w));
  console.log(row("direct, outputs off the websocket, the PNG read from disk instead of /view", k));
  console.log(row("farm: POST /api/v1/generate/image (sync), outputs from disk (output_dir)", f));
  console.log(row("farm: POST /api/v1/generate/image (sync), outputs over /view", h));
  const added = (xs: number[], over: number[], p: number) => ms(pct(xs, p) - pct(over, p));
  const addedRow = (label: string, xs: number[], over: number[]) => `| ${label} | | ${added(xs, over, 50)} | ${added(xs, over, 90)} | ${added(xs, over, 99)} |`;
  console.log(addedRow("**added by the farm, outputs from disk** (over direct with /history)", f, d));
  console.log(addedRow("added by the farm, outputs over /view (over direct with /history)", h, d));
  console.log(addedRow("added by the farm, outputs from disk, over direct with outputs off the websocket", f, w));
  console.log(addedRow("added by the farm, outputs from disk, over a direct client that also reads the PNG from disk", f, k));
  console.log(row("for scale: the farm's fixed cost of any job (diag.echo, POST /api/v1/jobs?wait=true)", e));
  if (Number.isFinite(farmCpu)) {
    console.log(
      `\nFarm process CPU (user + system, /proc) per image job: ${(farmCpu / f.length).toFixed(1)} ms with outputs from disk, ` +
        `${(httpFarmCpu / h.length).toFixed(1)} ms with outputs over /view, over their ${f.length} and ${h.length} jobs' blocks ` +
        `(its idle timers during them included); the direct client (outputs off the websocket, the same calls the farm's plugin makes) ` +
        `used ${(directCpu / w.length).toFixed(1)} ms per job in the bench's process. On a shared machine each of these ms waits for a core; ` +
        `CPU moves less with load than the wall times.`,
    );
  }
  console.log(await pairedReport(rounds, seeds));
  if (values.spans) {
    console.log(spanTable(spansFile));
    const v = [...directView].sort((a, b) => a - b);
    console.log(
      `\nFor comparison, GET /view in the direct client (outputs off the websocket): p50 ${pct(v, 50).toFixed(2)} ms, p90 ${pct(v, 90).toFixed(2)} ms.`,
    );
  }
} finally {
  await Promise.all([diskFarm.role.stop(), httpFarm.role.stop()]);
  if (values["cpu-prof"]) console.log(profileReport());
  if (values["cpu-prof"] && values["prof-out"]) keepProfiles(values["prof-out"]);
  standin.kill("SIGTERM");
  fs.rmSync(dir, { recursive: true, force: true });
}

/** p50 of each step between consecutive marks (in the order of their median time), over the image jobs' span lines. */
function spanTable(file: string): string {
  const jobs = fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { t0_epoch: number; marks: Array<[string, number]> })
    .filter((j) => j.marks.some(([n]) => n === "stored")); // image jobs only (warm-up included: 5 of them)
  // The bench's own send and receive times on the same clock (ms since the epoch), matched in
  // order: one request at a time, and every answered image request wrote one line.
  if (jobs.length === farmWire.length) {
    jobs.forEach((j, i) => {
      const [sent, got] = farmWire[i]!;
      j.marks.push(["client_post", sent - j.t0_epoch], ["client_answer", got - j.t0_epoch]);
    });
  }
  const at = new Map<string, number[]>();
  for (const j of jobs) for (const [n, t] of j.marks) at.set(n, [...(at.get(n) ?? []), t]);
  const order = [...at.keys()].sort(
    (a, b) =>
      pct(
        [...at.get(a)!].sort((x, y) => x - y),
        50,
      ) -
      pct(
        [...at.get(b)!].sort((x, y) => x - y),
        50,
      ),
  );
  const rows = [
    "",
    `Farm spans (NB_PERF_SPANS, ${jobs.length} image jobs; p50 ms of each step, from the previous mark):`,
    "",
    "| step (to mark) | p50 ms | p90 ms |",
    "|---|---|---|",
  ];
  for (let i = 1; i < order.length; i++) {
    const gaps = jobs
      .map((j) => {
        const m = new Map(j.marks);
        return (m.get(order[i]!) ?? NaN) - (m.get(order[i - 1]!) ?? NaN);
      })
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    if (gaps.length) rows.push(`| ${order[i - 1]} -> ${order[i]} | ${pct(gaps, 50).toFixed(2)} | ${pct(gaps, 90).toFixed(2)} |`);
  }
  return rows.join("\n");
}

/**
 * The target, decided by one run: the p50 added by the farm with its 95 % block-bootstrap
 * interval over rounds (bench/paired.ts), and how it moves between blocks of 4 rounds (40 jobs
 * per path). Then the same with ComfyUI's own time taken out of every job: each prompt's
 * execution_start -> execution_success in ComfyUI's history (its status messages' timestamps,
 * integer ms, as a real ComfyUI writes them; the job's prompt is found by its seed). What
 * remains is the time outside ComfyUI's executor (HTTP, queueing, the websocket, /view, and the
 * farm), so the spread of the 200 ms generation itself (sampler timers, PNG encoding) no longer
 * widens the interval. It would hide a farm cost that slowed ComfyUI's own run (CPU taken
 * during generation on a shared machine): the first figure is the target's, this one is for
 * finding where time goes.
 */
async function pairedReport(rounds: Round[], seeds: Record<string, number[]>[]): Promise<string> {
  const out: string[] = ["", "Paired within rounds (95 % interval: block bootstrap over rounds, 2000 draws):", ""];
  out.push("| added by the farm, p50 | estimate ms | 95 % interval ms | per block of 4 rounds, ms |", "|---|---|---|---|");
  const line = (label: string, rs: Round[], a: string, b = "f") => {
    const stat = (x: readonly Round[]) => addedP50(x, a, b);
    const ci = bootstrapInterval(rs, stat);
    const blocks = perBlock(rs, 4, stat).map((v) => v.toFixed(1));
    out.push(`| ${label} | ${stat(rs).toFixed(1)} | ${ci[0].toFixed(1)} .. ${ci[1].toFixed(1)} | ${blocks.join(", ")} |`);
    return ci;
  };
  const ciD = line("outputs from disk, over direct with /history", rounds, "d");
  const ciH = line("outputs over /view, over direct with /history", rounds, "d", "h");
  const ciW = line("outputs from disk, over direct with outputs off the websocket", rounds, "w");
  const ciK = line("outputs from disk, over a direct client that also reads the PNG from disk (outputs off the websocket)", rounds, "k");
  line("outputs over /view, over direct with outputs off the websocket (both GET /view)", rounds, "w", "h");
  const inside = await comfyRunTimes();
  const outside = rounds.map((r, i) =>
    Object.fromEntries(Object.entries(r).map(([k, xs]) => [k, xs.map((x, j) => x - (inside.get(seeds[i]![k]![j]!) ?? NaN)).filter(Number.isFinite)])),
  );
  const matched = outside.reduce((n, r) => n + (r.f?.length ?? 0) + (r.h?.length ?? 0) + (r.d?.length ?? 0), 0);
  line("outputs from disk, over direct with /history, ComfyUI's run taken out of each job", outside, "d");
  line("outputs over /view, over direct with /history, ComfyUI's run taken out", outside, "d", "h");
  line("outputs from disk, over direct with outputs off the websocket, ComfyUI's run taken out", outside, "w");
  const runs = [...inside.values()].sort((a, b) => a - b);
  out.push(
    "",
    `ComfyUI's own run (execution_start -> execution_success) p50 ${pct(runs, 50)} ms, p90 ${pct(runs, 90)} ms over ${runs.length} prompts; ` +
      `${matched} of ${rounds.length * 30} direct (/history) and farm jobs matched to their prompt.`,
    "",
    `Target p50 added <= 5 ms, over the usual client flow (/history + /view): ${verdict(ciD, 5)} for the farm with outputs from disk ` +
      `(output_dir, agent on ComfyUI's machine; interval ${ciD[0].toFixed(1)} .. ${ciD[1].toFixed(1)} ms); ` +
      `${verdict(ciH, 5)} for the farm with outputs over /view (remote ComfyUI; ${ciH[0].toFixed(1)} .. ${ciH[1].toFixed(1)} ms). ` +
      `For the from-disk farm also: ${verdict(ciW, 5)} over a direct client with the websocket shortcut (${ciW[0].toFixed(1)} .. ${ciW[1].toFixed(1)} ms); ` +
      `${verdict(ciK, 5)} over a direct client that also reads the PNG from disk (${ciK[0].toFixed(1)} .. ${ciK[1].toFixed(1)} ms).`,
  );
  return out.join("\n");
}

/** seed -> ms from execution_start to execution_success, for every successful prompt in the stand-in's history. */
async function comfyRunTimes(): Promise<Map<number, number>> {
  const res = await fetch(`${comfyUrl}/history`);
  const hist = (await res.json()) as Record<string, { prompt: unknown[]; status?: { messages?: [string, { timestamp?: number }][] } }>;
  const times = new Map<number, number>();
  for (const entry of Object.values(hist)) {
    const msgs = new Map(entry.status?.messages ?? []);
    const t0 = msgs.get("execution_start")?.timestamp;
    const t1 = msgs.get("execution_success")?.timestamp;
    const nodes = Object.values((entry.prompt[2] ?? {}) as Record<string, { inputs?: Record<string, unknown> }>);
    const s = nodes.map((n) => n.inputs?.noise_seed ?? n.inputs?.seed).find((v) => typeof v === "number");
    if (typeof t0 === "number" && typeof t1 === "number" && typeof s === "number") times.set(s, t1 - t0);
  }
  return times;
}

/** The farm's profiles and its blocks' windows (windows.json) into `out`, for a closer look (stacks, DevTools). */
function keepProfiles(out: string): void {
  fs.mkdirSync(out, { recursive: true });
  if (fs.existsSync(profDir)) for (const f of fs.readdirSync(profDir)) fs.copyFileSync(path.join(profDir, f), path.join(out, f));
  fs.writeFileSync(path.join(out, "windows.json"), JSON.stringify(farmWindows));
  // The spans (with --spans) and one reading of both clocks, to place a job's marks (ms since the
  // epoch) on the profiles' monotonic µs: which functions ran between two marks.
  if (fs.existsSync(spansFile)) fs.copyFileSync(spansFile, path.join(out, "spans.jsonl"));
  fs.writeFileSync(path.join(out, "clock.json"), JSON.stringify({ epoch_ms: performance.timeOrigin + performance.now(), monotonic_us: nowUs() }));
  console.log(`\nCPU profiles and windows.json kept in ${out}`);
}

/** The farm's sampled CPU in its blocks, by the file that asked for it (the main thread's profile; tsx's loader thread is idle by then). */
function profileReport(): string {
  const files = fs.existsSync(profDir) ? fs.readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile")) : [];
  const jobs = farmWindows.length * 10;
  // The main thread's file is the one with the most samples inside the blocks.
  const root = `${path.resolve(import.meta.dirname, "..")}/`;
  const profiles = files.map((f) => JSON.parse(fs.readFileSync(path.join(profDir, f), "utf8")) as CpuProfile);
  const ranked = profiles.map((p) => ({ p, res: ownersOf(p, root, farmWindows) })).sort((a, b) => b.res.busyMs - a.res.busyMs);
  const res = ranked[0]?.res;
  if (!res) return "\nNo CPU profile from the farm process (did it stop cleanly?).";
  return [
    `\nFarm process CPU per image job by the file that asked for it (node --cpu-prof, samples inside the farm's ${farmWindows.length} blocks, ${jobs} jobs; ` +
      `V8's and Node's own work charged to the nearest project frame up the stack; the profiler's cost included):\n`,
    ownersTable(res, jobs, 25),
    `\nThe same samples by the function they were taken in (self time), the first 20:\n`,
    ownersTable(res, jobs, 20, "leaf"),
    ...(values["prof-between"] ? [betweenReport(ranked[0]!.p, root, values["prof-between"])] : []),
  ].join("\n");
}

/**
 * The main thread's samples between two span marks of each image job (--prof-between A,B):
 * the marks (ms since the epoch, from the farm's spans) placed on the profile's monotonic µs by
 * one reading of both clocks here (performance.timeOrigin is the epoch at each process's start).
 */
function betweenReport(profile: CpuProfile, root: string, marks: string): string {
  const [a, b] = marks.split(",");
  if (!a || !b || !fs.existsSync(spansFile)) return `\n--prof-between ${marks}: needs two mark names and --spans.`;
  const offsetUs = nowUs() - (performance.timeOrigin + performance.now()) * 1000;
  const windows: Array<[number, number]> = [];
  for (const line of fs.readFileSync(spansFile, "utf8").trim().split("\n")) {
    const j = JSON.parse(line) as { t0_epoch: number; marks: Array<[string, number]> };
    const m = new Map(j.marks);
    if (m.has(a) && m.has(b)) windows.push([(j.t0_epoch + m.get(a)!) * 1000 + offsetUs, (j.t0_epoch + m.get(b)!) * 1000 + offsetUs]);
  }
  if (windows.length === 0) return `\n--prof-between ${marks}: no image job has both marks.`;
  const res = ownersOf(profile, root, windows);
  const spanMs = windows.reduce((n, [x, y]) => n + (y - x), 0) / 1000;
  return [
    `\nBetween ${a} and ${b} (${windows.length} image jobs, warm-up included): ${(spanMs / windows.length).toFixed(2)} ms per job on average, ` +
      `of which the farm's main thread was sampled busy ${(res.busyMs / windows.length).toFixed(2)} ms (idle the rest), by function (self time):\n`,
    ownersTable(res, windows.length, 15, "leaf"),
  ].join("\n");
}
