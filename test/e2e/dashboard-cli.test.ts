/**
 * farmctl's live views against an embedded farm: `farmctl watch` (the dashboard feed drawn
 * in a terminal: nodes, queue, running jobs with progress bars) and `submit --wait`'s
 * progress (a bar redrawn in place on a terminal, plain lines otherwise).
 */
import { afterAll, beforeAll, test } from "vitest";
import assert from "node:assert/strict";
import { startEmbeddedFarm, type TestFarm } from "../helpers/embedded-farm.ts";
import { http, waitJob } from "../helpers/http.ts";
import { watchFarm } from "../../cli/watch-farm.ts";
import { watchJob, progressBar } from "../../cli/watch.ts";

let farm: TestFarm;

beforeAll(async () => {
  farm = await startEmbeddedFarm({ agent: { max_concurrent_jobs: 4 } });
});
afterAll(async () => {
  await farm?.destroy();
});

/** A stand-in terminal (or pipe) that keeps what was written. */
const sink = (isTTY: boolean) => {
  const s = { text: "", isTTY, columns: 160, rows: 40, write: (x: string) => ((s.text += x), true) };
  return s;
};

test("progress bars are drawn to scale", () => {
  assert.equal(progressBar(0, 10), "[..........]");
  assert.equal(progressBar(50, 10), "[#####.....]");
  assert.equal(progressBar(100, 10), "[##########]");
  assert.equal(progressBar(250, 4), "[####]", "clamped");
  assert.equal(progressBar(Number.NaN, 4), "[....]");
});

test("farmctl watch on a terminal redraws nodes, queue and a running job's progress bar until stopped", async () => {
  const sub = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 4, steps: 8 } });
  const id = String(sub.body.job_id);
  const term = sink(true);
  const stop = new AbortController();
  const done = watchFarm({ base: farm.url, out: term, signal: stop.signal });
  // Wait for a redraw that shows the job part-way.
  const deadline = Date.now() + 20_000;
  let seen = "";
  while (Date.now() < deadline) {
    const screens = term.text.split("\x1b[H\x1b[2J");
    seen = screens.find((s) => s.includes(id) && /\[#{2,}\.+\]\s+\d+% step/.test(s)) ?? "";
    if (seen) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(seen, `a screen with the job's bar part-way:\n${term.text.slice(-3000)}`);
  assert.match(seen, /NODES \(1\)/);
  assert.match(seen, /RUNNING \(1\)/);
  assert.match(seen, /diag\.sleep/);
  assert.match(seen, /QUEUE/);
  assert.ok(term.text.startsWith("\x1b[?1049h"), "it draws on the alternate screen");
  await waitJob(farm.url, id);
  stop.abort();
  assert.equal(await done, 0);
  assert.ok(term.text.endsWith("\x1b[?25h\x1b[?1049l"), "and gives the screen back");
});

test("farmctl watch --once, piped, prints one plain view and exits", async () => {
  const pipe = sink(false);
  assert.equal(await watchFarm({ base: farm.url, out: pipe, once: true }), 0);
  assert.ok(!pipe.text.includes("\x1b"), "no terminal control codes in a pipe");
  assert.match(pipe.text, /^FARM \d\d:\d\d:\d\d {2}nodes 1 /);
  assert.match(pipe.text, /RECENT \(\d+\)/);
});

test("farmctl watch with a bad key says why and exits 1", async () => {
  const keyed = await startEmbeddedFarm({ api: { auth: { enabled: true, keys: [{ name: "ops", sha256: "0".repeat(64), scopes: ["admin"] }] } } });
  try {
    const errs: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await watchFarm({ base: keyed.url, key: "wrong", out: sink(false), once: true });
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 1);
    assert.match(errs.join(""), /401 unknown API key/);
  } finally {
    await keyed.destroy();
  }
});

test("submit --wait: a bar redrawn in place on a terminal, one plain line per change otherwise", async () => {
  for (const tty of [true, false]) {
    const sub = await http(farm.url, "POST", "/api/v1/jobs", { type: "diag.sleep", params: { seconds: 2, steps: 4 } });
    const id = String(sub.body.job_id);
    let text = "";
    await watchJob({
      base: farm.url,
      jobId: id,
      tty,
      write: (s) => {
        text += s;
      },
      poll: async () => (await http(farm.url, "GET", `/api/v1/jobs/${id}`)).body as { status: string },
    });
    if (tty) {
      assert.match(text, /\r\x1b\[K\[#{6}\.{18}\]\s+25% step 1\/4/, JSON.stringify(text));
      assert.match(text, /\r\x1b\[K\[#{24}\] 100% completed\n$/);
      assert.ok(!text.slice(0, -1).includes("\n"), "one line, redrawn");
    } else {
      assert.ok(!text.includes("\r") && !text.includes("\x1b"), "no control codes in a pipe");
      assert.match(text, /^\[ {2}\d+%\] /m);
      assert.match(text, /\[100%\] completed\n$/);
      assert.ok(text.split("\n").length >= 4, text);
    }
  }
});
