/**
 * What a hostile tenant can read about another (issue 18 residual 4): with alice's job
 * running (and one finished), every route a read/generate key may call, the dashboard feed
 * (WS /ws/farm) included, is scanned for alice's job ids, her prompt text and her output
 * paths. None may appear in bob's answers; an admin sees them (the scan's control: the
 * strings are there to be found).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { as, startTenancyFarm, TENANT_KEYS, type TenancyFarm } from "../helpers/tenancy-farm.ts";
import { http, waitJob } from "../helpers/http.ts";

const KEYS = TENANT_KEYS;
const SECRET_TEXT = "alice-private-note-7f3a";
let url = "";

let tf: TenancyFarm | undefined;

beforeAll(async () => {
  tf = await startTenancyFarm({
    fixture: "tenancy-plugin",
    plugins: ["imgfix"],
    linkSecret: "tenancy-leaks-secret-0123456789abcdef",
    tmpPrefix: "nb-tenancy-leak-",
    agent: { max_concurrent_jobs: 2 },
  });
  url = tf.url;
});

afterAll(async () => {
  await tf?.stop();
});

/** Everything the dashboard feed sends a key in `ms`. */
async function dashboard(key: string, ms: number): Promise<string> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/ws/farm`, { headers: as(key) });
  const frames: string[] = [];
  ws.on("message", (d) => frames.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => resolve());
    ws.on("error", reject);
  });
  await new Promise((r) => setTimeout(r, ms));
  ws.terminate();
  return frames.join("\n");
}

/** Every read answer a key gets, as one text. */
async function everything(key: string): Promise<string> {
  const paths = [
    "/api/v1/farm/status",
    "/api/v1/farm/nodes",
    "/api/v1/jobs/list",
    "/api/v1/jobs/list?status=running",
    "/api/v1/jobs/list?status=completed",
    "/metrics",
    "/health/ready",
    "/api/v1/character/list",
  ];
  const out: string[] = [];
  for (const p of paths) {
    const r = await fetch(url + p, { headers: as(key) });
    out.push(`${p} ${r.status} ${await r.text()}`);
  }
  out.push(await dashboard(key, 1500));
  return out.join("\n");
}

test("another key's job ids, params and output paths appear in no answer a read key gets (farm views, lists, metrics, dashboard)", async () => {
  const done = await http(url, "POST", "/api/v1/jobs", { type: "imgfix.make", params: { shade: 1, note: SECRET_TEXT } }, as(KEYS.alice));
  const finished = await waitJob(url, String(done.body.job_id), 30_000, as(KEYS.alice));
  assert.equal(finished.status, "completed");
  const run = await http(url, "POST", "/api/v1/jobs", { type: "imgfix.make", params: { shade: 2, seconds: 30, note: SECRET_TEXT } }, as(KEYS.alice));
  const running = String(run.body.job_id);
  for (let t = Date.now(); Date.now() - t < 30_000;) {
    if ((await http(url, "GET", `/api/v1/jobs/${running}`, undefined, as(KEYS.alice))).body.status === "running") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    const secrets = [String(done.body.job_id), running, SECRET_TEXT, `imgfix/${String(done.body.job_id)}`];
    const bob = await everything(KEYS.bob);
    for (const s of secrets)
      assert.ok(
        !bob.includes(s),
        `bob's answers contain '${s}':\n${bob
          .split("\n")
          .filter((l) => l.includes(s))
          .join("\n")
          .slice(0, 2000)}`,
      );
    // Control: the admin's answers do carry them, so the scan would have found them.
    const admin = await everything(KEYS.admin);
    assert.ok(admin.includes(running), "the admin does not see the running job: the scan proves nothing");
    assert.ok(admin.includes(String(done.body.job_id)));
  } finally {
    await http(url, "POST", `/api/v1/jobs/${running}/cancel`, undefined, as(KEYS.alice));
  }
});
