/**
 * Whether onnxruntime-node has its CUDA provider library. GPU nodes install it with
 * ONNXRUNTIME_NODE_INSTALL=cuda12; the default install is CPU only. Plugins check this before
 * asking for CUDA, so a CPU-only install runs on CPU at once (saying so) instead of printing
 * onnxruntime's load errors on every model load.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

let installed: boolean | undefined;

export function cudaProviderInstalled(): boolean {
  if (installed === undefined) {
    try {
      const dist = path.dirname(createRequire(import.meta.url).resolve("onnxruntime-node"));
      installed = fs.existsSync(path.join(dist, "..", "bin", "napi-v6", process.platform, process.arch, "libonnxruntime_providers_cuda.so"));
    } catch {
      installed = false;
    }
  }
  return installed;
}
