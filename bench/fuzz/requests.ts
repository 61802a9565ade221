/**
 * Turns the OpenAPI document into operations, and an operation plus a seeded PRNG into one
 * hostile HTTP request: a valid sample with one thing broken (see `KINDS`). The same seed
 * gives the same requests, so a failure found in a run can be replayed.
 */
import type { Rng } from "../../scripts/audio-eval/rng.ts";
import { fieldPaths, pick, sample, type Schema } from "./schema-sample.ts";
import { invalidUtf8, malformedJson, oddStrings, pollutionBodies, pollutionQueries, ssrfUrls, traversal, wrongTypes } from "./hostile-values.ts";
import { dataUrl, type HostileMedia } from "./hostile-media.ts";

export interface Operation {
  id: string;
  method: string;
  /** OpenAPI path template, e.g. /api/v1/jobs/{job_id}. */
  path: string;
  pathParams: string[];
  query: { name: string; schema: Schema }[];
  body?: Schema;
  multipart: boolean;
}

export interface FuzzRequest {
  kind: string;
  op: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzContext {
  media: HostileMedia[];
  /** Valid small files (png, jpeg, wav, mp3, mp4) for the media fields of valid samples. */
  goodMedia: HostileMedia[];
  canaryPort: number;
  /** The API's body limit: a few requests go just over it. */
  bodyLimitBytes: number;
}

export function operationsOf(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      if (!["get", "post", "put", "patch", "delete"].includes(m)) continue;
      const params = (op.parameters ?? []) as { in: string; name: string; schema: Schema }[];
      const content = (op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content;
      ops.push({
        id: `${m.toUpperCase()} ${p}`,
        method: m.toUpperCase(),
        path: p,
        pathParams: params.filter((x) => x.in === "path").map((x) => x.name),
        query: params.filter((x) => x.in === "query").map((x) => ({ name: x.name, schema: x.schema ?? {} })),
        body: content?.["application/json"]?.schema,
        // The uploads route reads multipart itself and documents no body schema.
        multipart: /\/uploads$/.test(p) && m === "post",
      });
    }
  }
  return ops;
}

export const KINDS = [
  ["valid", 4],
  ["malformed-json", 9],
  ["invalid-utf8", 2],
  ["wrong-type", 14],
  ["huge", 5],
  ["deep", 5],
  ["prototype-pollution", 8],
  ["odd-unicode", 10],
  ["path-traversal", 9],
  ["private-url", 9],
  ["hostile-media", 11],
  ["bad-query", 6],
  ["transport", 4],
  ["upload", 4],
] as const;
export type Kind = (typeof KINDS)[number][0];
const totalWeight = KINDS.reduce((a, [, w]) => a + w, 0);

function chooseKind(rng: Rng): Kind {
  let x = rng() * totalWeight;
  for (const [k, w] of KINDS) if ((x -= w) < 0) return k;
  return "valid";
}

const MEDIA_FIELD = /(path|image|audio|video|photo|file|url|reference|mask|clip|source|input|face)/i;

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const obj = (typeof head === "number" ? (Array.isArray(root) ? root : []) : root && typeof root === "object" && !Array.isArray(root) ? root : {}) as Record<
    string | number,
    unknown
  >;
  obj[head as string | number] = setAt(obj[head as string | number], rest, value);
  return obj;
}

function nested(depth: number, leaf: unknown, array: boolean): string {
  const l = JSON.stringify(leaf);
  return array ? `${"[".repeat(depth)}${l}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}${l}${"}".repeat(depth)}`;
}

function hostileString(rng: Rng, ctx: FuzzContext): string {
  const r = rng();
  if (r < 0.3) return pick(rng, oddStrings);
  if (r < 0.5) return pick(rng, traversal);
  if (r < 0.7) return pick(rng, ssrfUrls(ctx.canaryPort));
  return dataUrl(pick(rng, ctx.media));
}

/** encodeURIComponent that also takes lone surrogates (as their WTF-8 bytes: invalid UTF-8 on the wire). */
function enc(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) out += `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 0x3f)).toString(16)}%${(0x80 | (c & 0x3f)).toString(16)}`;
    else out += encodeURIComponent(ch);
  }
  return out;
}

function pathParamValue(rng: Rng, ctx: FuzzContext, name: string): string {
  const r = rng();
  if (name === "*" || r < 0.3)
    return pick(rng, traversal)
      .split("/")
      .map(enc)
      .join(rng() < 0.5 ? "/" : "%2f");
  if (r < 0.55) return enc(pick(rng, oddStrings)) || "%20";
  if (r < 0.65) return "a".repeat(1 + Math.floor(rng() * 9000));
  if (r < 0.75) return pick(rng, ["%", "%zz", "%c0%af", "..", ".", "%2e%2e", "%00", "%ff"]);
  if (r < 0.85) return encodeURIComponent(pick(rng, ssrfUrls(ctx.canaryPort)));
  return `job_${Math.floor(rng() * 1e9).toString(36)}`;
}

function queryString(op: Operation, rng: Rng, ctx: FuzzContext, hostile: boolean): string {
  const parts: string[] = [];
  for (const q of op.query) {
    // `async` stays true (added below): a hostile value that reads as false makes the request
    // wait minutes behind the fuzz jobs, which would measure the queue, not the input handling.
    if (hostile && q.name === "async") continue;
    if (!hostile) {
      if (rng() < 0.5) parts.push(`${q.name}=${encodeURIComponent(String(sample(q.schema, rng, q.name)))}`);
      continue;
    }
    const v = pick(rng, [
      "-1",
      "1e309",
      "NaN",
      "",
      "0x10",
      "99999999999999999999",
      "true",
      "[]",
      "{}",
      "%",
      "%zz",
      "%00",
      enc(pick(rng, oddStrings)),
      enc(hostileString(rng, ctx)).slice(0, 4000),
    ]);
    parts.push(`${q.name}=${v}`);
    if (rng() < 0.3) parts.push(`${q.name}=${v}2`); // repeated key: arrives as an array
  }
  if (hostile && rng() < 0.4) parts.push(pick(rng, pollutionQueries));
  if (hostile && rng() < 0.2) parts.push(`${"x".repeat(Math.floor(rng() * 20_000))}=1`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/** One request for `op`, broken in the way `kind` says (chosen at random when not given). */
export function makeRequest(op: Operation, rng: Rng, ctx: FuzzContext, forced?: Kind): FuzzRequest {
  const kind = forced ?? chooseKind(rng);
  let pathStr = op.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
    ["path-traversal", "odd-unicode", "private-url", "transport"].includes(kind) && rng() < 0.7
      ? pathParamValue(rng, ctx, name)
      : name === "*"
        ? "outputs-missing.png"
        : `fuzz_${Math.floor(rng() * 1e6)}`,
  );
  if (op.path.endsWith("{*}") || op.path.endsWith("*")) pathStr = pathStr.replace(/\/\*$/, "/outputs-missing.png");
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  let method = op.method;
  const q = queryString(op, rng, ctx, kind === "bad-query" || (kind === "prototype-pollution" && !op.body));
  let value: unknown = op.body ? sample(op.body, rng) : undefined;
  const fields = op.body ? fieldPaths(op.body) : [];
  const field = fields.length ? pick(rng, fields) : undefined;
  const mediaFields = fields.filter(
    (f) =>
      MEDIA_FIELD.test(String(f.path[f.path.length - 1])) &&
      (f.schema.type === "string" ||
        (Array.isArray(f.schema.type) && f.schema.type.includes("string")) ||
        (f.schema.items as Schema | undefined)?.type === "string"),
  );
  // Real media in the media fields, so that a sample passes input resolution and becomes a job.
  for (const f of mediaFields) {
    if (rng() < 0.3 || !ctx.goodMedia.length) continue;
    const name = String(f.path[f.path.length - 1]);
    const family = /audio|music|voice|speech/i.test(name) ? "audio" : /video|clip/i.test(name) ? "video" : "image";
    const choices = ctx.goodMedia.filter((m) => m.mime.startsWith(family));
    const m = pick(rng, choices.length ? choices : ctx.goodMedia);
    value = setAt(value, f.path, f.schema.type === "array" ? [dataUrl(m)] : dataUrl(m));
  }
  const json = (v: unknown) => {
    headers["content-type"] = "application/json";
    body = Buffer.from(JSON.stringify(v));
  };
  const raw = (s: string | Buffer, type = "application/json") => {
    headers["content-type"] = type;
    body = Buffer.isBuffer(s) ? s : Buffer.from(s);
  };
  const strAt = (f: { path: (string | number)[]; schema: Schema } | undefined, s: string) => {
    if (!f) return json(s);
    const isArr = f.schema.type === "array";
    json(setAt(value, f.path, isArr ? [s] : s));
  };

  switch (kind) {
    case "valid":
      if (value !== undefined) json(value);
      break;
    case "malformed-json":
      raw(malformedJson(JSON.stringify(value ?? { a: 1 }), (n) => Math.floor(rng() * n)));
      break;
    case "invalid-utf8":
      raw(pick(rng, invalidUtf8));
      break;
    case "wrong-type":
      if (field) json(setAt(value, field.path, pick(rng, wrongTypes)));
      else if (op.body) json(pick(rng, wrongTypes));
      else raw(JSON.stringify(pick(rng, wrongTypes)));
      break;
    case "huge": {
      const r = rng();
      if (r < 0.1)
        raw(Buffer.alloc(ctx.bodyLimitBytes + 1024, 0x20)); // just over the body limit
      else if (r < 0.4) strAt(field, "A".repeat(100_000 + Math.floor(rng() * 900_000)));
      else if (r < 0.6)
        json(
          setAt(
            value,
            field?.path ?? ["x"],
            Array.from({ length: 20_000 + Math.floor(rng() * 50_000) }, (_, i) => i),
          ),
        );
      else if (r < 0.8) json(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])));
      else json(setAt(value, field?.path ?? ["x"], pick(rng, [1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 5e-324])));
      break;
    }
    case "deep": {
      const depth = pick(rng, [65, 100, 1000, 10_000, 100_000]);
      const inner = nested(depth, 1, rng() < 0.5);
      const path = field?.path ?? [];
      // Splice the raw nested text where the field's value goes.
      const marker = "__FUZZ_DEEP__";
      const text = path.length ? JSON.stringify(setAt(value, path, marker)) : JSON.stringify(marker);
      raw(text.replace(JSON.stringify(marker), inner));
      break;
    }
    case "prototype-pollution": {
      const p = pick(rng, pollutionBodies);
      if (value && typeof value === "object" && rng() < 0.6) {
        // Inside the valid body (top level or in a nested object), as raw text: JSON.stringify
        // would drop a real __proto__ key.
        const text = JSON.stringify(value);
        raw(text.length > 2 ? `${text.slice(0, -1)},${p.slice(1)}` : p);
        if (field && rng() < 0.5) {
          const marker = "__FUZZ_PROTO__";
          raw(JSON.stringify(setAt(value, field.path, marker)).replace(JSON.stringify(marker), p));
        }
      } else raw(p);
      break;
    }
    case "odd-unicode":
      strAt(field, pick(rng, oddStrings) + (rng() < 0.5 ? pick(rng, oddStrings) : ""));
      break;
    case "path-traversal":
      strAt(mediaFields.length ? pick(rng, mediaFields) : field, pick(rng, traversal));
      break;
    case "private-url":
      strAt(mediaFields.length ? pick(rng, mediaFields) : field, pick(rng, ssrfUrls(ctx.canaryPort)));
      break;
    case "hostile-media": {
      const m = pick(rng, ctx.media);
      const v = rng() < 0.8 ? dataUrl(m) : m.bytes.toString("base64");
      strAt(mediaFields.length ? pick(rng, mediaFields) : field, v);
      break;
    }
    case "bad-query":
      if (value !== undefined) json(value);
      break;
    case "transport": {
      const r = rng();
      if (r < 0.25)
        raw(
          JSON.stringify(value ?? {}),
          pick(rng, [
            "text/plain",
            "application/xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "application/json; charset=utf-16",
            "application/json; charset=latin1",
            "*/*",
            "application/JSON",
            "application/json\u0000",
          ]).replace(/\u0000/, "%00"),
        );
      else if (r < 0.4) {
        body = Buffer.from(JSON.stringify(value ?? {}));
      } // no content type at all
      else if (r < 0.6) method = pick(rng, ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "GET", "POST"]);
      else if (r < 0.8) {
        headers["content-type"] = "application/json";
        headers["content-encoding"] = pick(rng, ["gzip", "br", "deflate", "identity, gzip"]);
        body = Buffer.from(JSON.stringify(value ?? {}));
      } else {
        headers.accept = pick(rng, ["text/html", "application/xml", "*/*;q=0", "\u00ff"]).replace(/[^\x20-\x7e]/g, "?");
        if (value !== undefined) json(value);
      }
      break;
    }
    case "upload": {
      const m = pick(rng, ctx.media);
      const boundary = `fuzz${Math.floor(rng() * 1e9)}`;
      const name = pick(rng, ["a.png", "../../../etc/passwd", "a\u0000.png", "", "%2e%2e%2fx", "🍌.mp4", "a".repeat(5000), 'x"; name="other']).replace(
        /[\r\n]/g,
        "",
      );
      const fieldName = pick(rng, ["file", "file", "files", "__proto__", ""]);
      const parts = [
        `--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"; filename="${name}"\r\nContent-Type: ${m.mime}\r\n\r\n`,
        m.bytes,
        `\r\n--${boundary}--\r\n`,
      ];
      if (rng() < 0.2) parts.pop(); // no closing boundary
      method = "POST";
      pathStr = `/api/v1/uploads${rng() < 0.5 ? `?kind=${pick(rng, ["image", "audio", "video", "any", "../x", "", "__proto__"])}` : ""}`;
      raw(Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p))), `multipart/form-data; boundary=${boundary}`);
      return { kind, op: "POST /api/v1/uploads", method, path: pathStr, headers, body };
    }
  }
  // Job routes wait for the job unless asked not to. Behind hundreds of fuzz jobs a sync
  // wait lasts minutes (the routes wait 30-900 s), which would read as "no answer": the
  // fuzzer asks for 202 and the run afterwards tallies how the accepted jobs ended.
  const asyncQ = op.query.some((x) => x.name === "async") && !q.includes("async=") ? "async=true" : "";
  const sep = q ? "&" : "?";
  return { kind, op: op.id, method, path: `${pathStr}${q}${asyncQ ? `${sep}${asyncQ}` : ""}`, headers, body };
}
