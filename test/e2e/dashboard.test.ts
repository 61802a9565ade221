/**
 * The dashboard in a real browser: Debian's chromium, driven by puppeteer-core, against a
 * distributed farm (nats-server, redis-server, s3rver, coordinator, API and 2 agents as
 * separate processes) with auth on. An admin key sees both nodes, a diag.sleep job's progress
 * bar move and the job complete, and drains a node from the page; a read key sees the farm
 * but no admin controls, and the server refuses the admin route to it anyway.
 * Screenshots go to docs/ (the README shows docs/dashboard.png).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import sharp from "sharp";
import { startLocalFarm, type LocalFarm, type RoleProcess } from "../../deploy/servers/farm-procs.ts";
import { freePort } from "../../deploy/servers/infra.ts";
import { hashKey } from "../../api/auth.ts";
import { http, waitJob } from "../helpers/http.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOCS = path.join(ROOT, "docs");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ADMIN = "dash-admin-key-0123456789abcdef";
const READER = "dash-read-key-0123456789abcdef";
const asAdmin = { authorization: `Bearer ${ADMIN}` };

let farm: LocalFarm;
/** A second API process with auth on: the one the browser and the test talk to. */
let authApi: RoleProcess;
let url: string;
let browser: Browser;

beforeAll(async () => {
  farm = await startLocalFarm({
    agents: 2,
    env: {
      // video: a real output (an MP4 assembled by ffmpeg) for the outputs gallery.
      FARM_AGENT__PLUGINS: '["diag","video"]',
      FARM_AGENT__TELEMETRY_INTERVAL_MS: "500",
      FARM_API__RATE_LIMITS__ENABLED: "false",
    },
    // Simulated GPUs, so the page has VRAM bars and resident models to draw.
    agentEnv: (i) => ({
      FARM_AGENT__SIMULATED_GPUS: JSON.stringify(
        i === 1
          ? [{ name: "Sim RTX 4090", vram_mb: 24576 }]
          : [
              { name: "Sim A100", vram_mb: 40960 },
              { name: "Sim A100", vram_mb: 40960 },
            ],
      ),
    }),
  });
  // startLocalFarm's own API (auth off) is how it sees the agents join; the dashboard is
  // tested through a second API process, as a farm with several front doors runs them.
  const port = await freePort();
  authApi = farm.startRole("api-auth", "api", {
    FARM_API__PORT: String(port),
    FARM_API__AUTH__ENABLED: "true",
    FARM_API__AUTH__KEYS: JSON.stringify([
      { name: "ops", sha256: hashKey(ADMIN), scopes: ["generate", "read", "admin"] },
      { name: "viewer", sha256: hashKey(READER), scopes: ["read"] },
    ]),
  });
  url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the auth API did not get ready:\n${authApi.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Tests run as root in containers: chromium's sandbox needs user namespaces it may not get.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  fs.mkdirSync(DOCS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await authApi?.stop(5000);
  await farm?.stop();
});

async function openAs(key: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url + "/", { waitUntil: "domcontentloaded" });
  // Auth is on: the page asks for a key before it shows anything.
  await page.waitForSelector("#login:not([hidden])", { timeout: 60_000 });
  await page.type("#key", key);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#main:not([hidden])", { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector("#conn")?.getAttribute("data-state") === "live", { timeout: 60_000 });
  assert.deepEqual(errors, [], "no script errors on the page");
  return page;
}

const nodeIds = (page: Page) => page.$$eval("#nodes .vrow", (els) => els.map((e) => (e as HTMLElement).dataset.id).sort());

test("an admin sees both nodes with their GPUs, a diag.sleep job's progress bar move to completion, and drains a node", async () => {
  // A model on a GPU, so a node shows a resident model.
  const gpu = await http(url, "POST", "/api/v1/jobs?wait=true", { type: "diag.gpu", params: {} }, asAdmin);
  assert.equal(gpu.body.status, "completed", JSON.stringify(gpu.body));

  const page = await openAs(ADMIN);
  await page.waitForFunction(() => document.querySelectorAll("#nodes .vrow").length === 2, { timeout: 60_000 });
  assert.deepEqual(await nodeIds(page), ["agent-1", "agent-2"]);
  const gpuLabels = await page.$$eval("#nodes .gpu .gname", (els) => els.map((e) => e.textContent));
  assert.equal(gpuLabels.length, 3, "agent-1 has one GPU, agent-2 two");
  assert.ok(
    gpuLabels.every((l) => l?.includes("sim")),
    `simulated GPUs are marked: ${gpuLabels.join(" | ")}`,
  );
  assert.equal(await page.$eval('[data-key="gpus"] .v', (e) => e.textContent), "3");
  const chips = await page.$$eval("#nodes .chip", (els) => els.filter((e) => e.getBoundingClientRect().width > 0).map((e) => e.textContent));
  assert.ok(chips.includes("diag-small"), `the diag model is shown resident: ${chips.join(",")}`);
  assert.equal(await page.$eval("body", (b) => b.dataset.admin), "true");

  const sub = await http(url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 5, steps: 10 } }, asAdmin);
  assert.equal(sub.status, 202, JSON.stringify(sub.body));
  const id = String(sub.body.job_id);
  const row = `#running .vrow[data-id="${id}"]`;
  await page.waitForSelector(row, { timeout: 60_000 });
  // Sample the bar as the page shows it, until the job leaves the running list.
  const seen: number[] = [];
  let shot = false;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const pct = await page.$eval(`${row} .bar.progress`, (e) => Number((e as HTMLElement).dataset.pct)).catch(() => null);
    if (pct === null) break;
    if (seen.at(-1) !== pct) seen.push(pct);
    if (!shot && pct >= 30) {
      await page.screenshot({ path: path.join(DOCS, "dashboard.png"), fullPage: true });
      shot = true;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.ok(seen.length >= 3, `the bar moved through several values: ${seen.join(",")}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `the bar only moves forward: ${seen.join(",")}`);
  assert.ok(shot, "a screenshot was taken while the job ran");
  await page.waitForSelector(`#recent .vrow[data-id="${id}"] .badge.completed`, { timeout: 60_000 });
  assert.equal((await waitJob(url, id, 60_000, asAdmin)).status, "completed");

  // Placement reasons of a finished job, from the recent list.
  await page.click(`#recent .vrow[data-id="${id}"]`);
  await page.waitForFunction(
    (jid) => document.querySelector("#why")?.textContent?.includes(`${jid}: completed`) && document.querySelector("#why")?.textContent?.includes("dispatched"),
    { timeout: 60_000 },
    id,
  );

  // Drain agent-2 from the page: the server drains it, and the page shows it.
  await page.click('#nodes .vrow[data-id="agent-2"] button[data-action="drain"]');
  await page.waitForFunction(() => document.querySelector('#nodes .vrow[data-id="agent-2"] .badge.draining') !== null, { timeout: 60_000 });
  const nodes = await http<{ nodes: { node_id: string; draining: boolean }[] }>(url, "GET", "/api/v1/farm/nodes", undefined, asAdmin);
  assert.equal(nodes.body.nodes.find((n) => n.node_id === "agent-2")?.draining, true);
  assert.equal(nodes.body.nodes.find((n) => n.node_id === "agent-1")?.draining, false);
  // And back.
  await page.click('#nodes .vrow[data-id="agent-2"] button[data-action="undrain"]');
  await page.waitForFunction(() => document.querySelector('#nodes .vrow[data-id="agent-2"] .badge.ready') !== null, { timeout: 60_000 });
  await page.close();
});

test("a read key sees the farm but no admin controls, and the server refuses it the admin routes", async () => {
  const page = await openAs(READER);
  await page.waitForFunction(() => document.querySelectorAll("#nodes .vrow").length === 2, { timeout: 60_000 });
  assert.deepEqual(await nodeIds(page), ["agent-1", "agent-2"]);
  // A running job of someone else: counted, but not listed to this key (nor cancellable).
  const sub = await http(url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 3, steps: 3 } }, asAdmin);
  await page.waitForFunction(() => document.querySelector('[data-key="running"] .v')?.textContent === "1", { timeout: 60_000 });
  assert.equal(await page.$$eval("#running .vrow", (e) => e.length), 0, "another key's job is not listed");
  assert.equal(await page.$eval("body", (b) => b.dataset.admin), "false");
  assert.equal((await page.$$("button[data-action]")).length, 0, "no drain/undrain/unblock/cancel buttons");
  assert.match(String(await page.$eval("#who", (e) => e.textContent)), /viewer \(read only\)/);
  await page.screenshot({ path: path.join(DOCS, "dashboard-read-key.png"), fullPage: true });
  const refused = await http(url, "POST", "/api/v1/farm/nodes/agent-1/drain", undefined, { authorization: `Bearer ${READER}` });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, "FORBIDDEN");
  await waitJob(url, String(sub.body.job_id), 20_000, asAdmin);
  await page.close();
});

test("an unknown key is refused with the API's reason, and the page shows no farm data", async () => {
  const page = await browser.newPage();
  await page.goto(url + "/", { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#login:not([hidden])");
  await page.type("#key", "not-a-key");
  await page.click("#login button[type=submit]");
  await page.waitForFunction(() => (document.querySelector("#login-error")?.textContent ?? "").length > 0, { timeout: 60_000 });
  assert.match(String(await page.$eval("#login-error", (e) => e.textContent)), /unknown API key/);
  assert.equal(await page.$eval("#main", (e) => (e as HTMLElement).hidden), true);
  // The feed itself refuses the upgrade without a valid key.
  const status = await new Promise<number>((resolve) => {
    void import("ws").then(({ default: WebSocket }) => {
      const ws = new WebSocket(`${url.replace("http", "ws")}/ws/farm?api_key=not-a-key`);
      ws.on("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on("open", () => {
        resolve(101);
        ws.close();
      });
      ws.on("error", () => undefined);
    });
  });
  assert.equal(status, 401);
  await page.close();
});

test("the outputs gallery shows a finished video through a signed link, playable, with its download", async () => {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 220, g: 120, b: 30 } } })
    .png()
    .toBuffer();
  const sub = await http(
    url,
    "POST",
    "/api/v1/video/assemble?async=true",
    {
      clips: [{ path: `data:image/png;base64,${png.toString("base64")}`, duration: 1 }],
      output_settings: { resolution: "320x240", fps: 10, quality: "draft" },
    },
    asAdmin,
  );
  assert.equal(sub.status, 202, JSON.stringify(sub.body));
  const id = String(sub.body.job_id);
  const done = await waitJob(url, id, 120_000, asAdmin);
  assert.equal(done.status, "completed", JSON.stringify(done));
  const videoUrl = String((done.result as { video_url?: string }).video_url);
  assert.match(videoUrl, /^\/outputs\/[^?]+\.mp4(\?.*)?$/);

  const file = videoUrl.split("?")[0]!;
  const page = await openAs(ADMIN);
  // Auth is on: the feed sends the output as a signed, expiring link (as every API answer
  // does), which a <video> can load without the key.
  const fig = `#gallery figure.out.video[data-url^="${file}?"]`;
  await page.waitForSelector(fig, { timeout: 60_000 });
  assert.match(String(await page.$eval(fig, (f) => f.getAttribute("data-url"))), /\?exp=\d+&sig=/);
  assert.equal(await page.$eval(`${fig} a.dl`, (a) => a.getAttribute("download")), file.split("/").pop());
  const duration = await page
    .waitForFunction(
      (sel) => {
        const v = document.querySelector(`${sel} video`) as HTMLVideoElement | null;
        if (!v) return 0;
        if (v.preload === "none") {
          v.preload = "metadata";
          v.load();
        } // what pressing play would start
        return Number.isFinite(v.duration) && v.duration > 0 ? v.duration : 0; // 0: not yet (waits for truthy)
      },
      { timeout: 60_000 },
      fig,
    )
    .then((h) => h.jsonValue());
  assert.ok(Math.abs(Number(duration) - 1) < 0.3, `the browser loaded and decoded the MP4: ${duration} s`);
  await page.close();
});
