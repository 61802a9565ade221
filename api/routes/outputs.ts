/**
 * GET /outputs/...: serves artifacts from the store with HTTP range requests (video scrubbing).
 * With API keys on, only through a signed link from a job the caller could read, or to an
 * admin key (api/output-links.ts says why).
 */
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { FarmError } from "../../core/errors.ts";
import { assertSafeKey } from "../../core/artifact-store.ts";
import type { OutputLinks } from "../output-links.ts";
import type { Principal } from "../auth.ts";

const TYPES: Record<string, string> = {
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".mov": "video/quicktime",
  ".mkv": "video/x-matroska",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".mp3": "audio/mpeg",
  ".wav": "audio/wav",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
  ".m4a": "audio/mp4",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
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
  const links = app.outputLinks;
  app.get<{ Params: { "*": string }; Querystring: { exp?: string; sig?: string } }>(
    "/outputs/*",
    {
      // No scope: a signed link needs no key (a browser's <img>); the handler decides.
      config: { scope: null },
      schema: {
        tags: ["outputs"],
        summary: "Download an output (supports Range); with API keys on, through the signed link a job's result gives, or with an admin key",
        querystring: { type: "object", properties: { exp: { type: "string", maxLength: 16 }, sig: { type: "string", maxLength: 128 } } },
      },
    },
    async (req, reply) => {
      const rel = req.params["*"];
      const key = `outputs/${rel}`;
      try {
        assertSafeKey(key);
      } catch {
        throw new FarmError("VALIDATION_ERROR", "invalid output path", { field: "path", constraint: "safe_path" });
      }
      authorize(links, `/outputs/${rel}`, req.query, req.principal);
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
        throw new FarmError("RANGE_NOT_SATISFIABLE", `range '${rangeHeader}' is outside the file's ${info.size} bytes`, {
          field: "range",
          constraint: "satisfiable",
          size: info.size,
        });
      }
      reply.header("content-type", type);
      if (r !== "ignore") {
        reply
          .status(206)
          .header("content-range", `bytes ${r.start}-${r.end}/${info.size}`)
          .header("content-length", String(r.end - r.start + 1));
        return reply.send(await deps.artifacts.get(key, r));
      }
      reply.header("content-length", String(info.size));
      return reply.send(await deps.artifacts.get(key));
    },
  );
}

/** Signed link, or an admin key, or keys off (every principal is then an admin). */
function authorize(links: OutputLinks, outputPath: string, q: { exp?: string; sig?: string }, principal: Principal): void {
  if (principal.scopes.has("admin")) return;
  if (q.sig !== undefined || q.exp !== undefined) {
    const verdict = links.check(outputPath, q.exp, q.sig);
    if (verdict === "ok") return;
    if (verdict === "expired") {
      throw new FarmError("FORBIDDEN", `this output link expired at ${new Date(Number(q.exp) * 1000).toISOString()}; read the job again for a fresh link`, {
        field: "exp",
        constraint: "not_expired",
      });
    }
    throw new FarmError("FORBIDDEN", "this output link's signature does not match its path and expiry", { field: "sig", constraint: "signed_link" });
  }
  if (principal.anonymous) {
    throw new FarmError("UNAUTHORIZED", "outputs are served through the signed links in job results (or to an admin key)", {
      field: "sig",
      constraint: "signed_link",
    });
  }
  throw new FarmError("FORBIDDEN", `API key '${principal.name}' may download outputs only through the signed links in its jobs' results`, {
    field: "sig",
    constraint: "signed_link",
  });
}
