/**
 * Hostile-input fuzz run (issue 15 item 5): 10,000 seeded requests generated from the
 * OpenAPI document (bench/fuzz/requests.ts) against an embedded farm in its own process
 * (`cli/farm.ts`, config in bench/fuzz/farm-config.ts), so a crash is a real exit. 8
 * concurrent connections; bounded at 900 s. URL inputs point at a loopback canary that
 * counts connections. Figures: requests tried / 2xx / clean 4xx in the spec's envelope /
 * unclean 4xx / 5xx (target 0) / no answer / leaks / canary connections / crash (target none),
 * per kind, and how the accepted jobs ended. Seed: FUZZ_SEED (default 15), size: FUZZ_REQUESTS.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeHostileMedia, type HostileMedia } from "./fuzz/hostile-media.ts";
import { runFuzz, startCanary, figuresTable } from "./fuzz/runner.ts";
import { fuzzFarmOverrides, FUZZ_BODY_LIMIT_MB } from "./fuzz/farm-config.ts";

const seed = Number(process.env.FUZZ_SEED ?? 15);
const requests = Number(process.env.FUZZ_REQUESTS ?? 10_000);

/** FARM_<SECTION>__<KEY> variables for the overrides (the loader's env form). */
function envOf(obj: Record<string, unknown>, prefix = "FARM_"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = `${prefix}${k.toUpperCase()}`;
    if (v && typeof v === "object" && !Array.isArray(v)) Object.assign(out, envOf(v as Record<string, unknown>, `${key}__`));
    else out[key] = JSON.stringify(v);
  }
  return out;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-fuzz-bench-"));
const goodMedia: HostileMedia[] = [];
const media = await makeHostileMedia(goodMedia);
const canary = await startCanary();
const child = spawn(process.execPath, ["--import", "tsx", "cli/farm.ts"], {
  env: {
    ...process.env,
    ...envOf(fuzzFarmOverrides),
    FARM_MODE: "embedded",
    FARM_PATHS__DATA_DIR: dataDir,
    FARM_API__HOST: "127.0.0.1",
    FARM_API__PORT: "0",
    FARM_LOG_LEVEL: "error",
  },
  stdio: ["ignore", "pipe", "pipe"],
});
let exited: string | null = null;
let stderr = "";
child.stderr.on("data", (d) => {
  stderr = (stderr + d).slice(-4000);
});
child.on("exit", (code, sig) => {
  exited = `exit ${code ?? ""}${sig ?? ""}`;
});
const url = await new Promise<string>((resolve, reject) => {
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
    const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.on("exit", () => reject(new Error(`farm exited before listening: ${stderr}`)));
});
const openapi = await (await fetch(`${url}/docs/json`)).json();
const f = await runFuzz(
  { baseUrl: url, openapi, alive: () => exited === null },
  {
    seed,
    requests,
    concurrency: 8,
    maxSeconds: 900,
    canaryPort: canary.port,
    context: { media, goodMedia, bodyLimitBytes: FUZZ_BODY_LIMIT_MB * 1024 * 1024 },
  },
);
f.canaryConnections = canary.connections();
const rss = fs.existsSync(`/proc/${child.pid}/status`) ? /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] : undefined;
console.log(figuresTable(f));
console.log("");
console.log(
  `Farm process: ${exited ? `died (${exited}): ${stderr.slice(-500)}` : "alive at the end"}${rss ? `, peak RSS ${(Number(rss) / 1024).toFixed(0)} MB` : ""}. Operations fuzzed: every path and method of ${url}/docs/json.`,
);
if (f.failures.length) {
  console.log("");
  console.log("Faults (up to 10 per fault):");
  console.log("");
  for (const x of f.failures) console.log(`- ${x.fault}: ${x.method} ${x.path.slice(0, 120)} -> ${x.status} ${x.body.slice(0, 200).replace(/\n/g, " ")}`);
}
// The full fault records (kind, request body head) for chasing one down: FUZZ_DUMP=<file>.
if (process.env.FUZZ_DUMP) fs.writeFileSync(process.env.FUZZ_DUMP, JSON.stringify(f.failures, null, 1));
child.kill("SIGTERM");
await new Promise((r) => setTimeout(r, 1500));
if (!exited) child.kill("SIGKILL");
await canary.close();
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
