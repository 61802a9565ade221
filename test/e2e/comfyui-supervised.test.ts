/**
 * Supervised mode: the agent starts one ComfyUI per GPU as a child process (here the stand-in
 * behind ComfyUI's own command line, test/helpers/comfyui-standin-cli.ts). Killing it mid-job
 * is a ComfyUI crash: the attempt fails retryable, the supervisor restarts the process with
 * back-off, and the farm re-runs the job to completion. Stopping the farm stops the child.
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import comfyui from "../../plugins/comfyui/index.ts";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http, waitJob } from "../helpers/http.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
let farm: TestFarm;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const offersSdxl = async () => {
  const nodes = (await http<{ nodes: { report?: { models?: Record<string, string[]> } }[] }>(farm.url, "GET", "/api/v1/farm/nodes")).body.nodes;
  return nodes.some((n) => n.report?.models?.["image.generate"]?.includes("sdxl-base-1.0")) ? true : undefined;
};

/** supervise.output_dir: GPU 0's ComfyUI is started with --output-directory <OUTPUTS>/gpu0. */
const OUTPUTS = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-sup-out-"));

beforeAll(async () => {
  farm = await startEmbeddedFarm({
    agent: { plugins: ["comfyui"], gpu_probe: "none" },
    coordinator: { max_attempts: 5 },
    plugins: {
      comfyui: {
        supervise: {
          command: process.execPath,
          args: ["--import", "tsx", path.join(ROOT, "test/helpers/comfyui-standin-cli.ts")],
          cwd: ROOT,
          port_base: await freePort(),
          gpus: [0],
          env: { NB_STANDIN_MODELS: JSON.stringify({ checkpoints: ["sd_xl_base_1.0.safetensors"] }), NB_STANDIN_STEP_MS: "60" },
          backoff_initial_ms: 200,
          backoff_max_ms: 2000,
          output_dir: OUTPUTS,
        },
        health_interval_ms: 100,
      },
    },
  });
});

afterAll(async () => {
  await farm?.destroy();
  fs.rmSync(OUTPUTS, { recursive: true, force: true });
});

test("a supervised ComfyUI killed mid-job is restarted and the job is re-run to completion; farm stop ends the child", async () => {
  await until("the supervised instance to be offered", offersSdxl);
  const sup = comfyui.pool()?.supervisor;
  assert.ok(sup, "supervised mode");
  const firstPid = sup.pids()[0]!;
  assert.ok(firstPid && alive(firstPid));

  const r = await http<{ job_id: string }>(farm.url, "POST", "/api/v1/generate/image?async=true", {
    prompt: "a crash survivor",
    width: 512,
    height: 512,
    seed: 77,
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const id = r.body.job_id;
  // Kill it while it samples (progress says "step n/m").
  await until("sampling to start", async () =>
    /step \d+\/\d+/.test(JSON.stringify((await http(farm.url, "GET", `/api/v1/jobs/${id}`)).body)) ? true : undefined,
  );
  process.kill(firstPid, "SIGKILL");

  const done = await waitJob(farm.url, id, 60_000).catch(async (err: unknown) => {
    const why = (await http(farm.url, "GET", `/api/v1/jobs/${id}/why`)).body;
    const nodes = (await http(farm.url, "GET", "/api/v1/farm/nodes")).body;
    throw new Error(`${String(err)}\nwhy: ${JSON.stringify(why)}\nnodes: ${JSON.stringify(nodes)}`);
  });
  assert.equal(done.status, "completed", JSON.stringify(done));
  const result = (done.result ?? done) as { image_url?: string; metadata?: { seed?: number } };
  assert.match(String(result.image_url), /\/outputs\/images\/.+\.png$/);
  assert.equal(result.metadata?.seed, 77);
  const view = (await http<Record<string, unknown>>(farm.url, "GET", `/api/v1/jobs/${id}/why`)).body;
  assert.ok(Number(view.attempts) >= 2, `re-run after the crash: ${JSON.stringify(view.attempts)}`);
  const secondPid = sup.pids()[0]!;
  assert.ok(secondPid && secondPid !== firstPid && alive(secondPid), "restarted as a new process");
  // The agent chose the output folder: ComfyUI saved there, and the restarted life's first
  // output (the re-run) matched /view's bytes, so its later outputs are read from disk.
  assert.ok(
    fs.readdirSync(path.join(OUTPUTS, "gpu0/farm")).some((n) => /^sdxl_\d{5}_\.png$/.test(n)),
    "saved into <output_dir>/gpu0",
  );
  assert.equal(comfyui.pool()!.instances[0]!.localOutputs?.state, "verified", comfyui.pool()!.instances[0]!.localOutputs?.reason);

  await farm.destroy();
  await until("the child to exit on farm stop", () => (alive(secondPid) ? undefined : true), 10_000);
});
