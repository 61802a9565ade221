/**
 * The dashboard's static files. The browser code is TypeScript (api/dashboard/ui), bundled
 * in memory by esbuild on the first request and kept: no build step to forget, nothing
 * generated in git, and no CDN (farm machines often have no internet). esbuild is what tsx,
 * the runtime the farm already runs on, is built on, so it costs no new dependency; bundling
 * the ~1,000 lines takes ~50 ms once.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const UI = path.join(path.dirname(fileURLToPath(import.meta.url)), "ui");

export interface Asset {
  body: string;
  type: string;
}

let bundle: Promise<Asset> | null = null;

export function appScript(): Promise<Asset> {
  bundle ??= (async () => {
    const esbuild = await import("esbuild");
    const out = await esbuild.build({
      entryPoints: [path.join(UI, "app.ts")],
      bundle: true,
      write: false,
      format: "esm",
      target: "es2020",
      minify: true,
      sourcemap: false,
      logLevel: "silent",
    });
    const file = out.outputFiles[0];
    if (!file) throw new Error("esbuild produced no dashboard bundle");
    return { body: file.text, type: "text/javascript; charset=utf-8" };
  })().catch((err: unknown) => {
    bundle = null; // let a later request try again (and show the error again)
    throw err;
  });
  return bundle;
}

const files = new Map<string, Promise<Asset>>();

/** index.html and app.css, read once. */
export function staticFile(name: "index.html" | "app.css"): Promise<Asset> {
  let f = files.get(name);
  if (!f) {
    f = fs
      .readFile(path.join(UI, name), "utf8")
      .then((body) => ({ body, type: name.endsWith(".html") ? "text/html; charset=utf-8" : "text/css; charset=utf-8" }));
    files.set(name, f);
  }
  return f;
}
