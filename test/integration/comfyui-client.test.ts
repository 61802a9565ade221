/**
 * ComfyClient against the ComfyUI stand-in (test/fixtures/comfyui/standin.ts, written from
 * ComfyUI's server.py and execution.py): a full run with progress, real PNG and video outputs
 * (size checked with sharp, frame count and fps with ffprobe), the validation-error shape, OOM,
 * cancel before and during execution, a ComfyUI process killed mid-job, /free and VRAM.
 */
import { afterAll, beforeAll, describe, test } from "vitest";
import assert from "node:assert/strict";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import net from "node:net";
import http from "node:http";
import sharp from "sharp";
import { FarmError } from "../../core/errors.ts";
import { ComfyClient, ComfyPromptError } from "../../plugins/comfyui/client/index.ts";
import { buildWorkflow, COMFY_MODELS } from "../../plugins/comfyui/workflows/index.ts";
import { ComfyStandin } from "../fixtures/comfyui/standin.ts";
import { ComfyInstance } from "../../plugins/comfyui/runtime/instance.ts";
import { saveOutput } from "../../plugins/comfyui/jobs/output.ts";
import { until } from "../helpers/waits.ts";

const execFileP = promisify(execFile);

function allWeights(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of COMFY_MODELS) for (const f of m.files) if (!(out[f.folder] ??= []).includes(f.file)) out[f.folder]!.push(f.file);
  return out;
}

const sdxl = (over: Partial<Parameters<typeof buildWorkflow>[1]> = {}) =>
  buildWorkflow("sdxl-base-1.0", { mode: "t2i", prompt: "a red fox in snow", negative_prompt: "blurry", width: 512, height: 384, seed: 7, steps: 6, ...over });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

async function ffprobe(file: string): Promise<{ frames: number; fps: string; width: number; height: number; codec: string }> {
  const { stdout } = await execFileP("ffprobe", [
    "-v",
    "error",
    "-count_frames",
    "-select_streams",
    "v:0",
    "-show_entries",
    "stream=nb_read_frames,r_frame_rate,width,height,codec_name",
    "-of",
    "json",
    file,
  ]);
  const s = (JSON.parse(stdout) as { streams: { nb_read_frames: string; r_frame_rate: string; width: number; height: number; codec_name: string }[] })
    .streams[0]!;
  return { frames: Number(s.nb_read_frames), fps: s.r_frame_rate, width: s.width, height: s.height, codec: s.codec_name };
}

describe("ComfyClient against the stand-in", () => {
  let standin: ComfyStandin;
  let client: ComfyClient;
  let tmp: string;

  beforeAll(async () => {
    standin = await new ComfyStandin({ models: allWeights(), stepMs: 2, modelVramMb: { "sd_xl_base_1.0.safetensors": 6617 } }).start();
    client = new ComfyClient({ baseUrl: standin.url, clientId: "farm-test" });
    tmp = await mkdtemp(path.join(tmpdir(), "comfy-client-"));
  });
  afterAll(async () => {
    await standin.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test("runs an SDXL workflow: progress per step, executing to null, a PNG of the requested size", async () => {
    const { workflow, outputNode } = sdxl();
    const progress: [number, number, string | null][] = [];
    const executing: (string | null)[] = [];
    const r = await client.run(workflow, { onProgress: (v, m, n) => progress.push([v, m, n]), onExecuting: (n) => executing.push(n) });
    assert.deepEqual(
      progress,
      [1, 2, 3, 4, 5, 6].map((v) => [v, 6, "3"]),
    );
    assert.equal(executing.at(-1), null);
    assert.ok(executing.includes("3") && executing.includes(outputNode));
    const ref = r.outputs[outputNode]!.images![0]!;
    assert.deepEqual({ subfolder: ref.subfolder, type: ref.type }, { subfolder: "farm", type: "output" });
    assert.match(ref.filename, /^sdxl_\d{5}_\.png$/);
    const png = await client.view(ref);
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["png", 512, 384]);
    const h = await client.history(r.promptId);
    assert.equal(h?.status?.status_str, "success");
    assert.deepEqual(
      h?.status?.messages.map(([e]) => e),
      ["execution_start", "execution_cached", "execution_success"],
    );
  });

  test("with outputNode the outputs come off the websocket (executed): no GET /history, same outputs as history has", async () => {
    const { workflow, outputNode } = sdxl({ seed: 8 });
    const before = standin.historyGets;
    const r = await client.run(workflow, { outputNode });
    assert.equal(standin.historyGets, before, "no /history request");
    const h = await client.history(r.promptId);
    assert.deepEqual(r.outputs[outputNode], h?.outputs[outputNode]);
    // Without it (or for a node that reported nothing) history is asked, as before.
    const plain = await client.run(sdxl({ seed: 9 }).workflow);
    assert.ok(standin.historyGets >= before + 2);
    assert.ok(plain.outputs[outputNode]?.images?.[0]);
  });

  test("one websocket for every run, concurrent ones included; one the server closed is replaced by the next run", async () => {
    const c = new ComfyClient({ baseUrl: standin.url, clientId: "shared-socket" });
    try {
      const before = standin.wsConnections;
      const a = sdxl({ seed: 21 });
      await c.run(a.workflow, { outputNode: a.outputNode });
      const [x, y] = await Promise.all([21, 22].map((seed) => c.run(sdxl({ seed }).workflow, { outputNode: a.outputNode })));
      assert.notEqual(x!.promptId, y!.promptId);
      assert.notEqual(x!.outputs[a.outputNode]!.images![0]!.filename, y!.outputs[a.outputNode]!.images![0]!.filename, "each run got its own prompt's outputs");
      assert.equal(standin.wsConnections, before + 1, "three runs, one socket");
      standin.dropSockets();
      await new Promise((r) => setTimeout(r, 50));
      const z = await c.run(sdxl({ seed: 23 }).workflow, { outputNode: a.outputNode });
      assert.ok(z.outputs[a.outputNode]?.images?.[0]);
      assert.equal(standin.wsConnections, before + 2, "a new socket after the server closed the old one");
    } finally {
      c.close();
    }
    await assert.rejects(c.run(sdxl().workflow), (e: unknown) => e instanceof FarmError && e.code === "GPU_ERROR");
  });

  test("viewStream: the output's bytes as a stream with its Content-Length", async () => {
    const { workflow, outputNode } = sdxl({ seed: 10 });
    const r = await client.run(workflow, { outputNode });
    const ref = r.outputs[outputNode]!.images![0]!;
    const { body, size } = await client.viewStream(ref);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    const streamed = Buffer.concat(chunks);
    assert.equal(size, streamed.length);
    assert.ok(streamed.equals(await client.view(ref)));
  });

  test("LTX text-to-video: an mp4 with the requested frame count, fps and size", async () => {
    const b = buildWorkflow("ltx-video-0.9.7-distilled", {
      mode: "t2v",
      prompt: "waves on a beach",
      width: 256,
      height: 160,
      num_frames: 33,
      fps: 24,
      seed: 3,
    });
    const r = await client.run(b.workflow, {});
    const out = r.outputs[b.outputNode]!;
    assert.deepEqual(out.animated, [true]);
    const ref = out.images![0]!;
    assert.equal(ref.subfolder, "video");
    const file = path.join(tmp, ref.filename);
    await writeFile(file, await client.view(ref));
    assert.deepEqual(await ffprobe(file), { frames: 33, fps: "24/1", width: 256, height: 160, codec: "h264" });
  });

  test("SaveWEBM (the example workflows' other video saver): a VP9 webm with the frame count and fps, reported as images + animated", async () => {
    const b = buildWorkflow("ltx-video-0.9.7-distilled", { mode: "t2v", prompt: "rain on a window", width: 128, height: 96, num_frames: 17, fps: 12 });
    const wf = structuredClone(b.workflow);
    delete wf["40"];
    wf["41"] = { class_type: "SaveWEBM", inputs: { images: ["8", 0], filename_prefix: "ComfyUI", codec: "vp9", fps: 12, crf: 32 } };
    const r = await client.run(wf, {});
    assert.deepEqual(r.outputs["41"]!.animated, [true]);
    const ref = r.outputs["41"]!.images![0]!;
    assert.match(ref.filename, /^ComfyUI_\d{5}_\.webm$/);
    const file = path.join(tmp, ref.filename);
    await writeFile(file, await client.view(ref));
    assert.deepEqual(await ffprobe(file), { frames: 17, fps: "12/1", width: 128, height: 96, codec: "vp9" });
  });

  test("LTX image-to-video with a start image uploaded through /upload/image", async () => {
    const start = await sharp({ create: { width: 320, height: 200, channels: 3, background: "#3366aa" } })
      .png()
      .toBuffer();
    const up = await client.uploadImage(start, "start.png", { subfolder: "farm" });
    assert.deepEqual(up, { name: "start.png", subfolder: "farm", type: "input" });
    const again = await client.uploadImage(Buffer.concat([start, Buffer.from([0])]), "start.png", { subfolder: "farm" });
    assert.equal(again.name, "start (1).png", "a different file under a taken name is renamed, as ComfyUI does");
    const info = await client.objectInfo();
    assert.ok((info.LoadImage!.input.required!.image![0] as string[]).includes("farm/start.png"));
    const b = buildWorkflow("ltx-video-0.9.7-distilled", {
      mode: "i2v",
      prompt: "the sky clears",
      width: 192,
      height: 128,
      num_frames: 17,
      fps: 12,
      start_image: `${up.subfolder}/${up.name}`,
    });
    const r = await client.run(b.workflow, {});
    const file = path.join(tmp, "i2v.mp4");
    await writeFile(file, await client.view(r.outputs[b.outputNode]!.images![0]!));
    const probe = await ffprobe(file);
    assert.deepEqual([probe.frames, probe.fps, probe.width, probe.height], [17, "12/1", 192, 128]);
  });

  test("a workflow ComfyUI refuses: MODEL_ERROR with node_errors naming node, class and reason", async () => {
    const { workflow } = sdxl();
    workflow["4"]!.inputs.ckpt_name = "sd_xl_base_0.9.safetensors";
    const err = await rejection(client.queuePrompt(workflow));
    assert.ok(err instanceof ComfyPromptError);
    assert.equal(err.code, "MODEL_ERROR");
    assert.equal(err.retryable, false);
    assert.equal(err.comfyError.type, "prompt_outputs_failed_validation");
    assert.equal(err.nodeErrors["4"]!.class_type, "CheckpointLoaderSimple");
    assert.deepEqual(err.nodeErrors["4"]!.dependent_outputs, ["9"]);
    assert.equal(err.nodeErrors["4"]!.errors[0]!.type, "value_not_in_list");
    assert.match(err.message, /node 4 \(CheckpointLoaderSimple\): Value not in list: ckpt_name: 'sd_xl_base_0\.9\.safetensors' not in \[/);
    // run() surfaces the same error and leaves nothing queued.
    const viaRun = await rejection(client.run(workflow, {}));
    assert.ok(viaRun instanceof ComfyPromptError);
    assert.deepEqual((await client.queue()).queue_pending, []);

    // No prompt at all: server.py's own 400 body, which the client turns into the same error class.
    const raw = await fetch(`${standin.url}/prompt`, { method: "POST", body: JSON.stringify({ client_id: "x" }) });
    assert.equal(raw.status, 400);
    const body = (await raw.json()) as Parameters<typeof ComfyPromptError.fromBody>[0];
    assert.deepEqual(body, { error: { type: "no_prompt", message: "No prompt provided", details: "No prompt provided", extra_info: {} }, node_errors: {} });
    assert.equal(ComfyPromptError.fromBody(body).message, "ComfyUI rejected the workflow (no_prompt): No prompt provided: No prompt provided");

    const unknown = await rejection(client.queuePrompt({ "1": { class_type: "PuLIDApply", inputs: {} } }));
    assert.ok(unknown instanceof FarmError && unknown.code === "MODEL_ERROR");
    assert.equal(unknown.message, "ComfyUI rejected the workflow (invalid_prompt): Cannot execute because node PuLIDApply does not exist.: Node ID '#1'");
  });

  test("out of memory mid-sampling: retryable GPU_ERROR naming node, class and torch's message", async () => {
    standin.fault = { kind: "oom", atStep: 3, times: 1 };
    const progress: number[] = [];
    const err = await rejection(client.run(sdxl().workflow, { onProgress: (v) => progress.push(v) }));
    assert.ok(err instanceof FarmError);
    assert.equal(err.code, "GPU_ERROR");
    assert.equal(err.retryable, true);
    assert.equal(err.message, "out of memory in node 3 (KSampler): Allocation on device 0 would exceed allowed memory. (out of memory)");
    assert.equal(err.details?.exception_type, "torch.OutOfMemoryError");
    assert.deepEqual(progress, [1, 2]);
  });

  test("another exception in a node: MODEL_ERROR naming the node and the exception", async () => {
    standin.fault = {
      kind: "exception",
      atStep: 1,
      times: 1,
      exceptionType: "RuntimeError",
      message: "mat1 and mat2 shapes cannot be multiplied (154x2048 and 768x320)",
    };
    const err = await rejection(client.run(sdxl().workflow, {}));
    assert.ok(err instanceof FarmError);
    assert.equal(err.code, "MODEL_ERROR");
    assert.equal(err.message, "node 3 (KSampler) failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied (154x2048 and 768x320)");
  });

  test("abort while running: POST /interrupt for that prompt, AbortError, history says interrupted", async () => {
    standin.stepMs = 20;
    try {
      const ac = new AbortController();
      let promptId = "";
      const p = client.run(sdxl({ steps: 40 }).workflow, { signal: ac.signal, onProgress: (v) => v === 2 && ac.abort(new Error("job cancelled")) });
      const err = await rejection(p);
      assert.ok(err instanceof DOMException);
      assert.equal(err.name, "AbortError");
      const call = standin.interruptCalls.at(-1);
      assert.ok(call?.prompt_id);
      promptId = call.prompt_id;
      // The stand-in stops at its next step check; history then records the interruption.
      let h = await client.history(promptId);
      for (let i = 0; i < 50 && !h; i++) h = await new Promise((r) => setTimeout(r, 20)).then(() => client.history(promptId));
      assert.equal(h?.status?.status_str, "error");
      assert.equal(h?.status?.messages.at(-1)?.[0], "execution_interrupted");
      assert.equal((h?.status?.messages.at(-1)?.[1] as { node_id: string }).node_id, "3");
    } finally {
      standin.stepMs = 2;
    }
  });

  test("abort while still queued: removed with POST /queue {delete}, the running prompt is not touched", async () => {
    // The first prompt must still run when the abort lands: 20 x 15 ms was outrun at load ~20
    // (the second prompt had started, so it was interrupted instead of deleted).
    standin.stepMs = 50;
    try {
      // Start from an idle server: a prompt an earlier test left running would make this
      // test's first prompt the pending one, and the check below take its id.
      for (let q = await client.queue(), end = Date.now() + 30_000; q.queue_running.length + q.queue_pending.length > 0; q = await client.queue()) {
        assert.ok(Date.now() < end, `the stand-in stays busy: ${JSON.stringify(q)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const first = client.run(sdxl({ steps: 20, seed: 1 }).workflow, {});
      const ac = new AbortController();
      const interruptsBefore = standin.interruptCalls.length;
      /** The queue once `ok` holds (30 s at most). */
      const queueWhen = async (ok: (q: Awaited<ReturnType<typeof client.queue>>) => boolean) => {
        let q = await client.queue();
        for (const deadline = Date.now() + 30_000; !ok(q) && Date.now() < deadline; q = await client.queue()) await new Promise((r) => setTimeout(r, 10));
        return q;
      };
      // The second prompt is queued only once the first runs: two POST /prompt in flight at
      // once may reach the server in either order, and the check below took the wrong id.
      const running = await queueWhen((q) => q.queue_running.length === 1);
      assert.equal(running.queue_running.length, 1, "the first prompt runs");
      const second = client.run(sdxl({ steps: 20, seed: 2 }).workflow, { signal: ac.signal });
      const q = await queueWhen((x) => x.queue_pending.length === 1);
      assert.equal(q.queue_running[0]?.[1], running.queue_running[0]![1], "the first prompt still runs");
      assert.equal(q.queue_pending.length, 1, "the second waits");
      const pendingId = q.queue_pending[0]![1];
      ac.abort();
      const err = await rejection(second);
      assert.ok(err instanceof DOMException && err.name === "AbortError");
      // An abort that lands before POST /prompt's answer rejects at once; the answer's
      // continuation then withdraws the prompt (run.ts), so the delete may come just after.
      await until(() => standin.deleteCalls.length > 0 && standin.deleteCalls.at(-1)![0] === pendingId, "the pending prompt's delete");
      assert.deepEqual(standin.deleteCalls.at(-1), [pendingId]);
      assert.equal(standin.interruptCalls.length, interruptsBefore, "no interrupt: it would have hit the running prompt");
      const r = await first;
      assert.ok(r.outputs["9"]!.images![0]);
      assert.equal(await client.history(pendingId), undefined, "the deleted prompt never ran");
    } finally {
      standin.stepMs = 2;
    }
  });

  test("timeout: TIMEOUT, and the prompt is interrupted", async () => {
    standin.stepMs = 30;
    try {
      const err = await rejection(client.run(sdxl({ steps: 50 }).workflow, { timeoutMs: 300 }));
      assert.ok(err instanceof FarmError && err.code === "TIMEOUT", String(err));
      assert.ok(standin.interruptCalls.at(-1)?.prompt_id);
    } finally {
      standin.stepMs = 2;
    }
  });

  test("/system_stats VRAM drops when a model is loaded; /free unloads it and is recorded", async () => {
    await client.free({ unload_models: true, free_memory: true });
    const idle = (await client.systemStats()).devices[0]!;
    await client.run(sdxl({ steps: 1 }).workflow, {});
    const busy = (await client.systemStats()).devices[0]!;
    assert.equal(idle.vram_free - busy.vram_free, 6617 * 1024 * 1024);
    assert.equal(busy.torch_vram_total, 6617 * 1024 * 1024);
    await client.free({ unload_models: true, free_memory: false });
    assert.deepEqual(standin.freeCalls.at(-1), { unload_models: true, free_memory: false });
    assert.equal((await client.systemStats()).devices[0]!.vram_free, idle.vram_free);
  });

  test("/models/<folder> lists weights; an unknown folder is [] (ComfyUI answers 404)", async () => {
    assert.deepEqual(await client.listModels("vae"), ["ae.safetensors"]);
    assert.deepEqual(await client.listModels("no_such_folder"), []);
  });
});

describe("events before POST /prompt answers", () => {
  test("a prompt that finished before its prompt_id arrived still resolves, with every progress event", async () => {
    const s = await new ComfyStandin({ models: allWeights(), stepMs: 1, promptResponseDelayMs: 300 }).start();
    try {
      const progress: number[] = [];
      const r = await new ComfyClient({ baseUrl: s.url }).run(sdxl({ steps: 5 }).workflow, { onProgress: (v) => progress.push(v) });
      assert.deepEqual(progress, [1, 2, 3, 4, 5]);
      assert.ok(r.outputs["9"]!.images![0]);
    } finally {
      await s.stop();
    }
  });
});

describe("ComfyUI process dies", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  async function startProcess(): Promise<{ proc: ChildProcess; port: number }> {
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", "test/fixtures/comfyui/standin-main.ts", "--port", "0", "--step-ms", "40", "--models-json", JSON.stringify(allWeights())],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      proc.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /COMFY_STANDIN_PORT=(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      proc.once("exit", (code) => reject(new Error(`stand-in exited ${code} before listening`)));
    });
    return { proc, port };
  }

  test("killed mid-job (SIGKILL): run rejects with a retryable GPU_ERROR; later calls too", async () => {
    const started = await startProcess();
    child = started.proc;
    const client = new ComfyClient({ baseUrl: `http://127.0.0.1:${started.port}` });
    const err = await rejection(client.run(sdxl({ steps: 30 }).workflow, { onProgress: (v) => v === 2 && started.proc.kill("SIGKILL") }));
    assert.ok(err instanceof FarmError, String(err));
    assert.equal(err.code, "GPU_ERROR");
    assert.equal(err.retryable, true);
    assert.equal(err.details?.reason, "comfyui_lost");
    assert.match(err.message, /websocket closed .* while prompt [0-9a-f-]{36} was unfinished/);

    if (started.proc.exitCode === null && started.proc.signalCode === null) await new Promise((r) => started.proc.once("exit", r));
    const refused = await rejection(client.systemStats());
    assert.ok(refused instanceof FarmError && refused.code === "GPU_ERROR" && refused.retryable);
    // A pooled keep-alive socket to the dead process reads as a reset, a new one as refused.
    assert.match(refused.message, /ECONNREFUSED|ECONNRESET/);
  });

  test("the stand-in's own crash fault (server gone mid-step): the same retryable GPU_ERROR", async () => {
    const s = await new ComfyStandin({ models: allWeights(), stepMs: 5, fault: { kind: "crash", atStep: 3 } }).start();
    try {
      const progress: number[] = [];
      const err = await rejection(new ComfyClient({ baseUrl: s.url }).run(sdxl().workflow, { onProgress: (v) => progress.push(v) }));
      assert.ok(err instanceof FarmError && err.code === "GPU_ERROR" && err.retryable, String(err));
      assert.equal(err.details?.reason, "comfyui_lost");
      assert.deepEqual(progress, [1, 2]);
    } finally {
      await s.stop();
    }
  });

  test("an output cut off mid-transfer (/view body ends early): retryable GPU_ERROR comfyui_lost, not a short file taken as the video", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "video/mp4", "content-length": "100000" });
      res.write(Buffer.alloc(1000, 1), () => res.socket?.destroy());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const inst = new ComfyInstance(0, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, 5000);
      const dir = await mkdtemp(path.join(tmpdir(), "comfy-cut-"));
      const err = await rejection(saveOutput(inst, { filename: "v_00001_.mp4", subfolder: "video", type: "output" }, path.join(dir, "v.mp4")));
      await rm(dir, { recursive: true, force: true });
      assert.ok(err instanceof FarmError && err.code === "GPU_ERROR" && err.retryable, String(err));
      assert.equal(err.details?.reason, "comfyui_lost");
      assert.match(err.message, /GET \/view of v_00001_\.mp4 broke off/);
    } finally {
      server.close();
    }
  });

  /** A raw HTTP/1.1 server: `answer(n, socket)` handles the n-th request (1-based) on each connection. */
  async function rawServer(answer: (n: number, socket: net.Socket) => void): Promise<{ url: string; connections: () => number; close: () => void }> {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections += 1;
      let n = 0;
      let buf = "";
      socket.on("data", (d) => {
        buf += d.toString("latin1");
        while (buf.includes("\r\n\r\n")) {
          buf = buf.slice(buf.indexOf("\r\n\r\n") + 4);
          answer(++n, socket);
        }
      });
      socket.on("error", () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
      url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
      connections: () => connections,
      close: () => void server.close(),
    };
  }
  const ref = { filename: "x_00001_.png", subfolder: "", type: "output" };

  test("view: a kept-alive socket the server dropped while idle is retried once on a new one; the bytes come back", async () => {
    // Second request on a connection: the server closes it without answering (its idle timeout won the race).
    const srv = await rawServer((n, socket) =>
      n === 1 ? socket.write("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc") : socket.destroy(),
    );
    const c = new ComfyClient({ baseUrl: srv.url });
    try {
      assert.equal((await c.view(ref)).toString(), "abc");
      assert.equal((await c.view(ref)).toString(), "abc");
      assert.equal(srv.connections(), 2);
    } finally {
      c.close();
      srv.close();
    }
  });

  test("a POST that meets a dropped kept-alive socket is not sent again: retryable comfyui_lost; the next call works", async () => {
    const bodies: string[] = [];
    const srv = await rawServer((n, socket) =>
      n === 1 ? socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}") : socket.destroy(),
    );
    const c = new ComfyClient({ baseUrl: srv.url });
    try {
      bodies.push(JSON.stringify(await c.queue()));
      const err = await rejection(c.interrupt("p-1"));
      assert.ok(err instanceof FarmError && err.code === "GPU_ERROR" && err.retryable, String(err));
      assert.equal(err.details?.reason, "comfyui_lost");
      assert.match(err.message, /POST \/interrupt failed: ECONNRESET/);
      assert.equal(srv.connections(), 1); // not sent again on a new connection
      bodies.push(JSON.stringify(await c.queue()));
      assert.deepEqual(bodies, ["{}", "{}"]);
    } finally {
      c.close();
      srv.close();
    }
  });

  test("view: body cut short, no answer within the deadline, 404: comfyui_lost, TIMEOUT, comfyui_http", async () => {
    const srv = await rawServer(() => undefined); // reads the request, never answers
    const cut = await rawServer((_n, socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(10), () => socket.destroy());
    });
    const missing = await new ComfyStandin({ models: allWeights(), stepMs: 1 }).start();
    const slow = new ComfyClient({ baseUrl: srv.url, requestTimeoutMs: 150 });
    const short = new ComfyClient({ baseUrl: cut.url });
    const gone = new ComfyClient({ baseUrl: missing.url });
    try {
      const t = await rejection(slow.view(ref));
      assert.ok(t instanceof FarmError && t.code === "TIMEOUT", String(t));
      assert.match(t.message, /GET \/view\?filename=x_00001_\.png.* did not answer within 150 ms/);
      const s = await rejection(short.view(ref));
      assert.ok(s instanceof FarmError && s.code === "GPU_ERROR" && s.retryable, String(s));
      assert.equal(s.details?.reason, "comfyui_lost");
      const g = await rejection(gone.view(ref));
      assert.ok(g instanceof FarmError && g.code === "GPU_ERROR" && !g.retryable, String(g));
      assert.equal(g.details?.reason, "comfyui_http");
      assert.equal(g.details?.status, 404);
      gone.close();
      const closed = await rejection(gone.view(ref));
      assert.ok(closed instanceof FarmError && closed.details?.reason === "comfyui_lost", String(closed));
    } finally {
      slow.close();
      short.close();
      srv.close();
      cut.close();
      await missing.stop();
    }
  });

  test("nothing listening: run fails fast with a retryable GPU_ERROR", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const err = await rejection(new ComfyClient({ baseUrl: `http://127.0.0.1:${port}` }).run(sdxl().workflow, {}));
    assert.ok(err instanceof FarmError && err.code === "GPU_ERROR" && err.retryable, String(err));
  });
});
