/** GET /outputs/...: serves artifacts from the store with HTTP range requests (video scrubbing). */
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { FarmError } from "../../core/errors.ts";
import { assertSafeKey } from "../../core/artifact-store.ts";

const TYPES: Record<string, string> = {
  ".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
  ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif",
  ".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg", ".m4a": "audio/mp4",
  ".json": "application/json", ".txt": "text/plain; charset=utf-8",
};

export function parseRange(header: string, size: number): { start: number; end: number } | "invalid" | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return "invalid";
  const [, a, b] = m;
  if (a === "" && b === "") return "invalid";
  let start: number, end: number;
  if (a === "") {
    const n = Number(b);
    if (n === 0) return "invalid";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start > end || start >= size) return "invalid";
  return { start, end };
}

export async function outputRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.get<{ Params: { "*": string } }>("/outputs/*", {
    schema: { tags: ["outputs"], summary: "Download an output (supports Range)" },
  }, async (req, reply) => {
    const rel = req.params["*"];
    const key = `outputs/${rel}`;
    try { assertSafeKey(key); } catch {
      throw new FarmError("VALIDATION_ERROR", "invalid output path", { field: "path", constraint: "safe_path" });
    }
    const info = await deps.artifacts.stat(key);
    if (!info) throw new FarmError("NOT_FOUND", `output '${rel}' not found`, { field: "path", constraint: "exists" });
    const type = info.contentType ?? TYPES[path.extname(key).toLowerCase()] ?? "application/octet-stream";
    reply.header("accept-ranges", "bytes").header("content-type", type).header("cache-control", "private, max-age=3600");
    const rangeHeader = req.headers.range;
    if (rangeHeader) {
      const r = parseRange(rangeHeader, info.size);
      if (r === "invalid") {
        reply.header("content-range", `bytes */${info.size}`);
        return reply.status(416).send({ error: true, code: "VALIDATION_ERROR", message: "unsatisfiable range", details: { field: "range", constraint: "satisfiable" }, timestamp: new Date().toISOString() });
      }
      if (r) {
        reply.status(206).header("content-range", `bytes ${r.start}-${r.end}/${info.size}`).header("content-length", String(r.end - r.start + 1));
        return reply.send(await deps.artifacts.get(key, r));
      }
    }
    reply.header("content-length", String(info.size));
    return reply.send(await deps.artifacts.get(key));
  });
}
