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

/**
 * How a Range header is answered (RFC 9110 section 14):
 * - one satisfiable `bytes=a-b`, `bytes=a-` or `bytes=-n` range: 206 with that part;
 * - a range that starts at or past the end (or `bytes=-0`): 416 with `Content-Range: bytes *\/size`;
 * - anything else (another unit, bad syntax, several ranges): the header is ignored and the
 *   whole file is sent with 200, as the RFC allows. Several ranges would need a
 *   multipart/byteranges body that no video player asks for; ignoring them is always correct.
 */
export type RangeAnswer = { start: number; end: number } | "unsatisfiable" | "ignore";

export function parseRange(header: string, size: number): RangeAnswer {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return "ignore";
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return "ignore";
  if (a === "") {
    const n = Number(b);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== "" && Number(b) < start) return "ignore"; // last < first: invalid syntax, not unsatisfiable
  if (start >= size) return "unsatisfiable";
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
    const rangeHeader = req.headers.range;
    const r = rangeHeader ? parseRange(rangeHeader, info.size) : "ignore";
    reply.header("accept-ranges", "bytes").header("cache-control", "private, max-age=3600");
    if (r === "unsatisfiable") {
      // Thrown, so the error handler writes the envelope as JSON: setting the file's
      // content type first made Fastify refuse to serialise the envelope (a 500).
      reply.header("content-range", `bytes */${info.size}`);
      throw new FarmError("RANGE_NOT_SATISFIABLE", `range '${rangeHeader}' is outside the file's ${info.size} bytes`, { field: "range", constraint: "satisfiable", size: info.size });
    }
    reply.header("content-type", type);
    if (r !== "ignore") {
      reply.status(206).header("content-range", `bytes ${r.start}-${r.end}/${info.size}`).header("content-length", String(r.end - r.start + 1));
      return reply.send(await deps.artifacts.get(key, r));
    }
    reply.header("content-length", String(info.size));
    return reply.send(await deps.artifacts.get(key));
  });
}
