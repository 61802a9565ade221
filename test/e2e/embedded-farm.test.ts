/** The single-workstation farm: every role in one process, no servers, a journal that survives restarts. */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedFarm } from "../helpers/embedded-farm.ts";
import { http, waitJob, waitStatus, collectWs } from "../helpers/http.ts";
import { main as farmctl } from "../../cli/farmctl.ts";

test("embedded farm: submit, progress over WebSocket, cancel, errors, and a restart keeps every job", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-embedded-restart-"));
  let farm = await startEmbeddedFarm({}, dir);
  try {
    const echo = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", params: { n: 1 }, idempotency_key: "k-1" });
    assert.equal(echo.status, 202);
    const again = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.echo", params: { n: 1 }, idempotency_key: "k-1" });
    assert.equal(again.body.job_id, echo.body.job_id, "same idempotency key, same job");
    const done = await waitJob(farm.url, String(echo.body.job_id));
    assert.equal(done.status, "completed");
    assert.deepEqual(done.result, { echo: { n: 1 } });

    const sleep = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 1, steps: 4 } });
    const ws = await collectWs(`${farm.url.replace("http", "ws")}/ws/${sleep.body.job_id}`);
    assert.equal(ws.messages.at(-1)?.type, "completed");
    assert.ok(ws.messages.some((m) => m.type === "progress" && Number(m.progress) > 0 && Number(m.progress) < 100));

    // A late WebSocket client gets the final state at once.
    const late = await collectWs(`${farm.url.replace("http", "ws")}/ws/${sleep.body.job_id}`, 60_000);
    assert.deepEqual(
      late.messages.map((m) => m.type),
      ["status", "completed"],
    );

    const long = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 30, steps: 30 } });
    await waitStatus(farm.url, String(long.body.job_id), "running");
    const cancel = await http(farm.url, "POST", `/api/v1/jobs/${long.body.job_id}/cancel`);
    assert.equal(cancel.status, 200);
    assert.equal((await waitJob(farm.url, String(long.body.job_id), 60_000)).status, "cancelled");
    const cancelAgain = await http(farm.url, "POST", `/api/v1/jobs/${long.body.job_id}/cancel`);
    assert.equal(cancelAgain.status, 409);
    assert.equal(cancelAgain.body.code, "CONFLICT");

    const failing = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.fail", params: { message: "boom" } });
    const failed = await waitJob(farm.url, String(failing.body.job_id));
    assert.equal(failed.status, "failed");
    assert.match(String(failed.error), /boom/);

    const missing = await http(farm.url, "GET", "/api/v1/jobs/does-not-exist");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "NOT_FOUND");
    assert.equal(missing.body.error, true);
    assert.ok(typeof missing.body.timestamp === "string");

    const bad = await http(farm.url, "POST", "/api/v1/jobs", { params: {} });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "VALIDATION_ERROR");
    assert.deepEqual(bad.body.details, { field: "type", constraint: "required" });

    const garbage = await http(farm.url, "POST", "/api/v1/jobs", "{not json", { "content-type": "application/json" });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.body.code, "VALIDATION_ERROR");

    const nobody = await http(farm.url, "POST", "/api/v1/jobs", { type: "image.generate", params: { prompt: "cat" } });
    assert.equal(nobody.status, 503);
    assert.equal(nobody.body.code, "CAPABILITY_UNAVAILABLE");

    const list = await http(farm.url, "GET", "/api/v1/jobs/list?status=completed&limit=10");
    assert.equal(list.status, 200);
    assert.ok((list.body.jobs as unknown[]).length >= 2);

    // farmctl against the embedded farm.
    let printed = "";
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await farmctl(["status", "--url", farm.url]);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0);
    assert.match(printed, /NODES \(1\)/);
    assert.match(printed, /cpu only|gpu0/);

    // Restart: the journal brings every job back.
    await farm.stop({ drainMs: 200 });
    farm = await startEmbeddedFarm({}, dir);
    const after = await http(farm.url, "GET", `/api/v1/jobs/${echo.body.job_id}`);
    assert.equal(after.status, 200);
    assert.equal(after.body.status, "completed");
    assert.deepEqual(after.body.result, { echo: { n: 1 } });
  } finally {
    await farm.stop({ drainMs: 200 });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a node that keeps failing a job type is blocklisted for it; farmctl unblock lifts it", async () => {
  const farm = await startEmbeddedFarm({ coordinator: { blocklist_threshold: 2, max_attempts: 1 } });
  try {
    for (let i = 0; i < 2; i++) {
      const r = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.fail", params: { message: `crash ${i}`, code: "GPU_ERROR" } });
      assert.equal(r.status, 202);
      assert.equal((await waitJob(farm.url, String(r.body.job_id))).status, "failed");
    }
    const nodes = (await http(farm.url, "GET", "/api/v1/farm/nodes")).body.nodes as { node_id: string; blocklisted: Record<string, string> }[];
    const node = nodes[0]!;
    assert.match(String(node.blocklisted["diag.fail"]), /2/, JSON.stringify(node.blocklisted));
    // The only node offering diag.fail is blocklisted: nobody can run it now.
    const refused = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.fail", params: {} });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, "CAPABILITY_UNAVAILABLE");
    // Other job types still run there.
    const echo = await http(farm.url, "POST", "/api/v1/jobs?wait=true", { type: "diag.echo", params: {} });
    assert.equal(echo.body.status, "completed");
    let printed = "";
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await farmctl(["unblock", node.node_id, "--url", farm.url]);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0, printed);
    const again = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.fail", params: { fail_times: 0 } });
    assert.equal(again.status, 202);
    assert.equal((await waitJob(farm.url, String(again.body.job_id))).status, "completed");
  } finally {
    await farm.destroy();
  }
});
