/**
 * ComfyUI outputs read from its output folder on the agent's disk (plugins/comfyui/jobs/
 * local-output.ts) instead of GET /view: found by the same names /view resolves, hard-linked
 * into an fs store (copied when a link cannot be made, put into S3), trusted only after the
 * first output of an instance's life matched /view's bytes, and never for a name /view would
 * refuse. The ComfyUI stand-in saves real PNG/MP4 files into its --output-directory, as
 * ComfyUI does (folder_paths.get_save_image_path, server.py /view).
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { ComfyStandin } from "../fixtures/comfyui/standin.ts";
import { createComfyPlugin } from "../../plugins/comfyui/index.ts";
import { parseComfyConfig } from "../../plugins/comfyui/runtime/config.ts";
import { Supervisor } from "../../plugins/comfyui/runtime/supervisor.ts";
import { localIntoStore, openLocalOutput, outputIntoStore, type LocalFile } from "../../plugins/comfyui/jobs/local-output.ts";
import { ComfyInstance } from "../../plugins/comfyui/runtime/instance.ts";
import type { FarmError } from "../../core/errors.ts";
import { rejection } from "../helpers/waits.ts";
import { acceptPng } from "../../plugins/comfyui/jobs/image.ts";
import { preparePlugins } from "../../node-agent/plugin-loader.ts";
import { Agent } from "../../node-agent/agent.ts";
import { NoGpuProbe } from "../../node-agent/gpu-probe.ts";
import { buildConfig } from "../../core/config/load.ts";
import { FsArtifactStore } from "../../core/artifacts/fs-store.ts";
import { openArtifactStore } from "../../core/artifacts/index.ts";
import { startS3 } from "../../deploy/servers/infra.ts";
import type { PutOptions } from "../../core/artifact-store.ts";
import { RecordingReporter, task } from "../unit/agent-harness.ts";
import { silentLogger } from "../../core/logger.ts";

const WEIGHTS = { checkpoints: ["sd_xl_turbo_1.0_fp16.safetensors", "ltxv-13b-0.9.7-distilled-fp8.safetensors"], text_encoders: ["t5xxl_fp16.safetensors"] };

/** An agent with only the comfyui plugin, attached to one stand-in, its store under the same temp folder (one file system). */
async function agentOn(instance: { url: string; gpu_index: number; output_dir?: string }, base: string) {
  const config = buildConfig({
    paths: { data_dir: base },
    agent: { gpu_probe: "none", telemetry_interval_ms: 100, max_concurrent_jobs: 2, work_dir: path.join(base, "work") },
    plugins: { comfyui: { instances: [instance], health_interval_ms: 100 } },
  });
  const plugin = createComfyPlugin();
  const plugins = await preparePlugins([{ name: "comfyui", plugin }], { modelsDir: config.paths.models, pluginConfig: config.plugins });
  const reporter = new RecordingReporter();
  const artifacts = new FsArtifactStore(path.join(base, "artifacts"));
  const agent = new Agent({ nodeId: "comfy-local", config, plugins, probe: new NoGpuProbe(), artifacts, reporter });
  await agent.start();
  const run = async (type: string, params: Record<string, unknown>, model: string) => {
    const t = task(type, params, { model, gpu_index: 0 });
    await agent.startTask(t);
    const out = await reporter.outcome(t.job_id);
    assert.equal(out.kind, "completed", JSON.stringify(out));
    return (out as { result: Record<string, unknown> }).result;
  };
  return { agent, plugin, artifacts, run, instance: () => plugin.pool()!.instances[0]! };
}

/** The stored file behind an /outputs/... URL of the fs store. */
const storedFile = (artifacts: FsArtifactStore, url: unknown) => path.join(artifacts.root, "outputs", String(url).replace(/^\/outputs\//, ""));

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

test("output_dir: the first image of a life comes through /view and is compared; later ones are hard links of ComfyUI's file, no /view; image_base64 and videos too", async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-local-"));
  const out = path.join(base, "comfy-output");
  const s = await new ComfyStandin({ models: WEIGHTS, outputDirectory: out }).start();
  const h = await agentOn({ url: s.url, gpu_index: 0, output_dir: out }, base);
  try {
    const first = await h.run("image.generate", { prompt: "a lighthouse", width: 256, height: 256, seed: 1 }, "sdxl-turbo");
    assert.equal(s.viewGets, 1, "the first output of a life is fetched through /view");
    assert.equal(h.instance().localOutputs?.state, "verified", h.instance().localOutputs?.reason);

    const second = await h.run("image.generate", { prompt: "a harbour", width: 320, height: 256, seed: 2, return_base64: true }, "sdxl-turbo");
    assert.equal(s.viewGets, 1, "a verified folder's outputs are read from disk");
    assert.equal((second.metadata as { resolution: string }).resolution, "320x256");
    const stored = storedFile(h.artifacts, second.image_url);
    const comfyFile = filesUnder(out).find((f) => fs.statSync(f).ino === fs.statSync(stored).ino);
    assert.ok(comfyFile, "the artifact is a hard link of ComfyUI's saved file");
    assert.match(path.relative(out, comfyFile), /^farm\/sdxl-turbo_\d{5}_\.png$/);
    assert.deepEqual(Buffer.from(String(second.image_base64), "base64"), fs.readFileSync(stored));
    assert.equal((await sharp(stored).metadata()).width, 320);
    // The first job's artifact is its own file (written from /view), not a link.
    assert.equal(fs.statSync(storedFile(h.artifacts, first.image_url)).nlink, 1);

    // A video: ComfyUI's MP4 linked into the task's work folder, probed and stored; no /view either.
    const video = await h.run("video.generate", { prompt: "waves", num_frames: 17, fps: 12, width: 256, height: 192, seed: 3 }, "ltx-video-0.9.7-distilled");
    assert.equal(s.viewGets, 1);
    assert.equal((video.metadata as { frame_count: number }).frame_count, 17);
    assert.ok(fs.statSync(storedFile(h.artifacts, video.video_url)).size > 0);

    // ComfyUI comes back after a restart (a new life): its first output is compared again.
    h.instance().life += 1;
    await h.run("image.generate", { prompt: "a pier", width: 256, height: 256, seed: 4 }, "sdxl-turbo");
    assert.equal(s.viewGets, 2);
    assert.equal(h.instance().localOutputs?.state, "verified");
  } finally {
    await h.agent.stop();
    await s.stop();
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test("a wrong output_dir is not trusted: a folder holding other bytes under ComfyUI's names, or none, leaves every output on /view, and the job's image is ComfyUI's", async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-local-"));
  const decoy = path.join(base, "decoy");
  // Another server's folder: its first turbo image has the very name this server's will get.
  fs.mkdirSync(path.join(decoy, "farm"), { recursive: true });
  const other = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#0f0" } })
    .png()
    .toBuffer();
  fs.writeFileSync(path.join(decoy, "farm/sdxl-turbo_00001_.png"), other);
  const s = await new ComfyStandin({ models: WEIGHTS }).start();
  const h = await agentOn({ url: s.url, gpu_index: 0, output_dir: decoy }, base);
  try {
    const a = await h.run("image.generate", { prompt: "a field", width: 384, height: 256, seed: 5 }, "sdxl-turbo");
    assert.equal(h.instance().localOutputs?.state, "off");
    assert.match(h.instance().localOutputs!.reason, /differs from \/view's answer/);
    assert.equal((await sharp(storedFile(h.artifacts, a.image_url)).metadata()).width, 384, "the stored image is the one ComfyUI made");
    // Off for this life: the next output is not even looked for on disk (its name is not in the decoy anyway).
    await h.run("image.generate", { prompt: "a field", width: 384, height: 256, seed: 6 }, "sdxl-turbo");
    assert.equal(s.viewGets, 2);

    // A folder without the file: off as well, with the reason.
    h.instance().life += 1;
    fs.rmSync(path.join(decoy, "farm"), { recursive: true });
    await h.run("image.generate", { prompt: "a field", width: 384, height: 256, seed: 7 }, "sdxl-turbo");
    assert.equal(s.viewGets, 3);
    assert.equal(h.instance().localOutputs?.state, "off");
    assert.match(h.instance().localOutputs!.reason, /ENOENT/);
  } finally {
    await h.agent.stop();
    await s.stop();
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test("the output file is found by /view's rules: annotated names, subfolders inside the folder only, no '..' or absolute names, output type only, a symlink not followed", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-open-"));
  try {
    fs.mkdirSync(path.join(dir, "out/farm"), { recursive: true });
    fs.writeFileSync(path.join(dir, "out/farm/a_00001_.png"), "png bytes");
    fs.writeFileSync(path.join(dir, "secret.txt"), "not an output");
    fs.symlinkSync(path.join(dir, "secret.txt"), path.join(dir, "out/farm/link_00001_.png"));
    fs.symlinkSync(path.join(dir, "out/farm/a_00001_.png"), path.join(dir, "out/farm/inner_00001_.png"));
    fs.symlinkSync(dir, path.join(dir, "out/away"));
    const root = path.join(dir, "out");
    const open = (filename: string, subfolder: string, type = "output") => {
      const got = openLocalOutput(root, { filename, subfolder, type });
      if ("file" in got) fs.closeSync(got.file.fd);
      if ("file" in got) return path.relative(root, got.file.path);
      return "refused" in got ? `escapes: ${got.refused}` : `not here: ${got.why}`;
    };
    assert.equal(open("a_00001_.png", "farm"), "farm/a_00001_.png");
    assert.equal(open("a_00001_.png [output]", "farm", "temp"), "farm/a_00001_.png", "the annotation names the output folder");
    assert.match(open("farm/a_00001_.png", ""), /^not here: .*ENOENT/, "/view takes the name's basename, in the subfolder given");
    assert.match(open("a_00001_.png", "farm", "temp"), /^not here: type 'temp'/);
    assert.match(open("a_00001_.png [temp]", "farm"), /^not here: not in the output folder/);
    assert.match(open("../secret.txt", "farm"), /^escapes: a name \/view refuses/);
    assert.match(open("/etc/passwd", ""), /^escapes: a name \/view refuses/);
    assert.match(open("secret.txt", ".."), /^escapes: a subfolder outside the output folder/);
    assert.match(open("secret.txt", "../.."), /^escapes: a subfolder outside/);
    // Not read through, but not refused either: ComfyUI follows it, so /view is asked.
    assert.match(open("link_00001_.png", "farm"), /^not here: a symlink leading out/, "a symlink out of the folder");
    assert.match(open("inner_00001_.png", "farm"), /^not here: .*ELOOP/, "a symlink inside it is not followed either");
    assert.match(open("secret.txt", "away"), /^not here: a symlink leading out/, "a symlinked subfolder out of the folder");
    assert.match(open("farm", ""), /^not here: .* is not a plain file/);
    assert.match(open("missing.png", "farm"), /^not here: .*ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a name escaping the output folder ('..', a subfolder outside it) fails the output as comfyui_bad_output, with no /view request; a symlinked subfolder leading out is asked of /view instead", async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-escape-"));
  const out = path.join(base, "comfy-output");
  const s = await new ComfyStandin({ models: WEIGHTS, outputDirectory: out }).start();
  try {
    fs.mkdirSync(path.join(out, "farm"), { recursive: true });
    fs.writeFileSync(path.join(base, "secret.png"), "not an output");
    fs.symlinkSync(base, path.join(out, "away"));
    const inst = new ComfyInstance(0, s.url, 5000, out);
    // Two agents attached to one ComfyUI must not share a websocket client_id (ComfyUI sends events to the latest socket of an id).
    assert.notEqual(new ComfyInstance(0, s.url, 5000).client.clientId, inst.client.clientId);
    const store = new FsArtifactStore(path.join(base, "artifacts"));
    for (const [mode, life] of [
      ["unverified", undefined],
      ["verified", { life: inst.life, state: "verified" as const, reason: "" }],
    ] as const) {
      inst.localOutputs = life;
      for (const ref of [
        { filename: "../secret.png", subfolder: "farm", type: "output" },
        { filename: "secret.png", subfolder: "..", type: "output" },
      ]) {
        const err = await rejection(
          outputIntoStore(inst, ref, store, "outputs/images/x.png", { contentType: "image/png" }, acceptPng("x"), { logger: silentLogger }, false),
        );
        assert.equal((err as FarmError).details?.reason, "comfyui_bad_output", `${mode} ${JSON.stringify(ref)}: ${String(err)}`);
      }
    }
    assert.equal(s.viewGets, 0, "nothing asked of /view");
    assert.equal(fs.existsSync(path.join(store.root, "outputs/images/x.png")), false, "nothing published");
    // An output subfolder linked to another disk: not read through the link; ComfyUI's /view
    // answers for it (here the stand-in serves the linked file, which is no PNG: refused as such).
    inst.localOutputs = { life: inst.life, state: "verified", reason: "" };
    const viaLink = await rejection(
      outputIntoStore(
        inst,
        { filename: "secret.png", subfolder: "away", type: "output" },
        store,
        "outputs/images/x.png",
        { contentType: "image/png" },
        acceptPng("x"),
        { logger: silentLogger },
        false,
      ),
    );
    assert.equal(s.viewGets, 1, "asked of /view");
    assert.match(String(viaLink), /is not a PNG image/);
  } finally {
    await s.stop();
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test("without a link (another file system) the file is copied; into S3 it is put, streamed above 1 MiB; a PNG cut short is refused as comfyui_lost; a cancel publishes nothing", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-copy-"));
  const s3 = await startS3();
  try {
    const noise = (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (i * 2654435761) >>> 24;
      return b;
    };
    const small = await sharp(noise(200 * 200 * 3), { raw: { width: 200, height: 200, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const big = await sharp(noise(700 * 700 * 3), { raw: { width: 700, height: 700, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    assert.ok(small.length < 1024 * 1024 && big.length > 1024 * 1024);
    const local = (name: string, bytes: Buffer): LocalFile => {
      fs.writeFileSync(path.join(dir, name), bytes);
      const got = openLocalOutput(dir, { filename: name, subfolder: "", type: "output" });
      assert.ok("file" in got);
      return got.file;
    };
    /** One PNG the fs store writes in one go, one above its 1 MiB (S3: one part either way, streamed above 1 MiB from the file). */
    const sizes = [
      ["s.png", small],
      ["b.png", big],
    ] as const;
    const accept = acceptPng("test output");
    const opts: PutOptions = { contentType: "image/png" };

    // An fs store whose link(2) fails as across file systems (EXDEV): linkFile answers undefined, the bytes are copied.
    let linkCalls = 0;
    const fsStore = new FsArtifactStore(path.join(dir, "store"), () => {
      linkCalls += 1;
      throw Object.assign(new Error("EXDEV: cross-device link not permitted"), { code: "EXDEV" });
    });
    for (const [name, bytes] of sizes) {
      const f = local(name, bytes);
      try {
        const got = await localIntoStore(f, fsStore, `outputs/images/${name}`, opts, accept);
        assert.deepEqual(got.accepted, { width: bytes === small ? 200 : 700, height: bytes === small ? 200 : 700 });
        const stored = path.join(fsStore.root, `outputs/images/${name}`);
        assert.deepEqual(fs.readFileSync(stored), bytes);
        assert.notEqual(fs.statSync(stored).ino, f.ino, "a copy, not a link");
      } finally {
        fs.closeSync(f.fd);
      }
    }
    assert.equal(linkCalls, 2);
    assert.deepEqual(fs.readdirSync(path.join(fsStore.root, "outputs/images")).sort(), ["b.png", "s.png"], "no temp name left by the refused links");

    const s3Store = await openArtifactStore(
      buildConfig({
        mode: "distributed",
        artifacts: { s3: { endpoint: "127.0.0.1", port: s3.port, bucket: "local-output", access_key: "S3RVER", secret_key: "S3RVER" } },
      }),
    );
    assert.equal(s3Store.linkFile, undefined);
    for (const [name, bytes] of sizes) {
      const f = local(name, bytes);
      try {
        await localIntoStore(f, s3Store, `outputs/images/${name}`, opts, accept);
      } finally {
        fs.closeSync(f.fd);
      }
      const chunks: Buffer[] = [];
      for await (const c of await s3Store.get(`outputs/images/${name}`)) chunks.push(c as Buffer);
      assert.deepEqual(Buffer.concat(chunks), bytes, name);
    }

    // ComfyUI's file cut before its IEND chunk: refused, retryable, nothing published.
    const linking = new FsArtifactStore(path.join(dir, "linking"));
    const cut = local("cut.png", small.subarray(0, small.length - 100));
    try {
      await assert.rejects(localIntoStore(cut, linking, "outputs/images/cut.png", opts, accept), (e: Error & { details?: { reason?: string } }) => {
        assert.equal(e.details?.reason, "comfyui_lost");
        return true;
      });
    } finally {
      fs.closeSync(cut.fd);
    }
    assert.equal(await linking.stat("outputs/images/cut.png"), null);
    // A cancel before it is published.
    const ac = new AbortController();
    ac.abort(new Error("cancelled"));
    const whole = local("whole.png", small);
    try {
      await assert.rejects(localIntoStore(whole, linking, "outputs/images/whole.png", opts, accept, ac.signal), /cancelled/);
    } finally {
      fs.closeSync(whole.fd);
    }
    assert.equal(await linking.stat("outputs/images/whole.png"), null);
    // And a link when it can: the same inode, no temp file left.
    const linked = local("linked.png", small);
    try {
      await localIntoStore(linked, linking, "outputs/images/linked.png", opts, accept);
      assert.equal(fs.statSync(path.join(linking.root, "outputs/images/linked.png")).ino, linked.ino);
    } finally {
      fs.closeSync(linked.fd);
    }
    assert.deepEqual(
      fs.readdirSync(path.join(linking.root, "outputs/images")).filter((n) => n.endsWith(".part")),
      [],
    );
    await s3Store.close?.();
  } finally {
    await s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("config: output_dir must be an absolute path (named in the error); supervised GPUs get <output_dir>/gpu<i>, else the args' own --output-directory, else none", () => {
  for (const [raw, re] of [
    [
      { instances: [{ url: "http://a:1", gpu_index: 0, output_dir: "relative/out" }] },
      /plugins\.comfyui\.instances\.0\.output_dir must be an absolute folder path/,
    ],
    [{ instances: [{ url: "http://a:1", gpu_index: 0, outputdir: "/x" }] }, /plugins\.comfyui\.instances\.0\.outputdir is not a setting/],
    [{ supervise: { command: "python", output_dir: 7 } }, /plugins\.comfyui\.supervise\.output_dir must be an absolute folder path/],
  ] as const)
    assert.throws(
      () => parseComfyConfig(raw as Record<string, unknown>),
      (err: Error & { code?: string }) => err.code === "VALIDATION_ERROR" && re.test(err.message),
    );
  assert.equal(parseComfyConfig({ instances: [{ url: "http://a:1", gpu_index: 0, output_dir: "/srv/out/" }] }).instances[0]!.output_dir, "/srv/out");
  const sup = (s: Record<string, unknown>) => parseComfyConfig({ supervise: { command: "python", ...s } }).supervise!;
  assert.equal(Supervisor.outputDirFor(sup({ output_dir: "/srv/comfy-out" }), 1), "/srv/comfy-out/gpu1");
  assert.equal(Supervisor.outputDirFor(sup({ args: ["main.py", "--output-directory", "out"], cwd: "/opt/ComfyUI" }), 0), "/opt/ComfyUI/out");
  assert.equal(Supervisor.outputDirFor(sup({ args: ["main.py", "--output-directory=/data/o"] }), 0), "/data/o");
  assert.equal(Supervisor.outputDirFor(sup({ args: ["main.py"] }), 0), undefined, "ComfyUI's default folder is not guessed");
});

test("supervised without output_dir or an --output-directory in its args: ComfyUI saves under the node's data folder (comfyui-output/gpu<i>), created before it starts", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-comfy-data-"));
  const plugin = createComfyPlugin();
  // A "ComfyUI" that only stays alive: the folder and the argument are what is checked.
  const argsFile = path.join(dataDir, "argv.json");
  const script = path.join(dataDir, "fake-comfyui.cjs");
  fs.writeFileSync(script, `require("fs").writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(process.argv.slice(2))); setInterval(() => {}, 1000);`);
  await plugin.init!({
    logger: silentLogger,
    modelsDir: path.join(dataDir, "models"),
    dataDir,
    gpus: [],
    config: { supervise: { command: process.execPath, args: [script], gpus: [0], port_base: 1, start_timeout_ms: 60_000 } },
  });
  try {
    const expected = path.join(dataDir, "comfyui-output", "gpu0");
    assert.equal(plugin.pool()!.instances[0]!.outputDir, expected);
    const end = Date.now() + 30_000;
    while (!fs.existsSync(argsFile) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const argv = JSON.parse(fs.readFileSync(argsFile, "utf8")) as string[];
    assert.deepEqual(argv.slice(argv.indexOf("--output-directory")), ["--output-directory", expected]);
    assert.ok(fs.statSync(expected).isDirectory());
  } finally {
    await plugin.close!();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
