/**
 * Turning a media field of a request into an artifact key. Every spec field that takes
 * an image, audio or clip accepts, in this order of recognition:
 *
 * 1. a data URL: `data:image/png;base64,iVBOR…`;
 * 2. an artifact reference: `artifact:<key>` (key under `uploads/` or `outputs/`),
 *    `upload:<sha256>` (a file uploaded earlier), or a plain key `uploads/…` / `outputs/…`
 *    that exists in the store; or a signed output link as job results give it
 *    (`/outputs/…?exp=…&sig=…`, also with the API's scheme and host in front);
 * 3. an http(s) URL, only when `api.inputs.allow_http` (see safe-fetch.ts for the SSRF rules);
 * 4. raw base64 whose bytes are a supported media format;
 * 5. a server path inside the allowed folders (see safe-path.ts);
 * 6. anything else base64-shaped is decoded and then refused by type.
 *
 * New bytes (base64, path, URL) go through `storeUpload`: size limit, type sniffing,
 * image bomb check, content-addressed key. Every rejection is a FarmError
 * (VALIDATION_ERROR, PAYLOAD_TOO_LARGE or UNSUPPORTED_MEDIA_TYPE) whose `details.field`
 * is the request field, e.g. `clips[2].path`.
 *
 * Tenancy: an output (`outputs/` key, or a server path inside paths.outputs) is used only
 * when the caller may read the job that wrote it, or through a valid signed link
 * (input-caller.ts says how the job is found and why uploads stay shared).
 */
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { assertSafeKey } from "../../core/artifact-store.ts";
import { FarmError, validationAt } from "../../core/errors.ts";
import { limitName, maxBytes, type InputDeps } from "./input-deps.ts";
import { assertOutputAllowed, linkRefusal } from "./input-caller.ts";
import { fetchToUpload } from "./safe-fetch.ts";
import { outputKeyOfPath, resolveServerPath } from "./safe-path.ts";
import { sniffType, SNIFF_BYTES, UPLOAD_EXTENSIONS, type MediaKind } from "./sniff.ts";
import { storeUpload, uploadKey } from "./uploads.ts";

export interface ResolvedInput {
  /** Artifact key the job params should carry. */
  key: string;
  size: number;
  /** Sniffed MIME type. */
  content_type: string;
  /** How the value was given. */
  source: "artifact" | "base64" | "path" | "url";
  /** Set when the bytes were stored by this call (content address). */
  sha256?: string;
}

const OUTPUTS = "outputs/";
const OUTPUT_LINK = "/outputs/";
const ARTIFACT_PREFIXES = ["uploads/", OUTPUTS];
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]*={0,2}$/;
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

export async function resolveMediaInput(value: unknown, field: string, kind: MediaKind, deps: InputDeps): Promise<ResolvedInput> {
  if (typeof value !== "string")
    throw validationAt(field, "type", `expected a string (base64, data URL, upload reference, path or URL), got ${value === null ? "null" : typeof value}`);
  const v = value.trim();
  if (v === "") throw validationAt(field, "non-empty", "is empty");

  if (v.startsWith("data:")) return fromDataUrl(v, field, kind, deps);
  if (v.startsWith("artifact:")) return fromArtifact(v.slice("artifact:".length), field, kind, deps);
  if (v.startsWith("upload:")) return fromUploadRef(v.slice("upload:".length), field, kind, deps);
  if (v.startsWith(OUTPUT_LINK) && v.includes("?")) return fromOutputLink(v, field, kind, deps);
  const absoluteLink = SCHEME_RE.test(v) ? signedLinkIn(v, deps) : null;
  if (absoluteLink) return fromOutputLink(absoluteLink, field, kind, deps);
  if (SCHEME_RE.test(v)) {
    const up = await fetchToUpload(v, field, kind, deps);
    return { key: up.key, size: up.size, content_type: up.content_type, source: "url", sha256: up.sha256 };
  }
  if (ARTIFACT_PREFIXES.some((p) => v.startsWith(p)) && isSafeKey(v)) {
    // Owner first: a refused output key answers the same whether the file exists or not.
    if (v.startsWith(OUTPUTS)) await assertOutputAllowed(v, field, deps.caller);
    if (await deps.store.stat(v)) return fromArtifact(v, field, kind, deps, true);
  }
  const compact = v.length > 4096 || !looksLikePath(v) ? v.replace(/\s+/g, "") : v;
  const b64 = BASE64_RE.test(compact) || BASE64URL_RE.test(compact);
  if (b64 && compact.length >= 12 && sniffType(Buffer.from(compact.slice(0, 4 * Math.ceil(SNIFF_BYTES / 3)), "base64"))) {
    return fromBase64(compact, undefined, field, kind, deps);
  }
  if (looksLikePath(v)) return fromPath(v, field, kind, deps);
  if (b64) return fromBase64(compact, undefined, field, kind, deps);
  throw validationAt(field, "media input", "not a recognised media input (expected base64, a data URL, an upload/artifact reference, a server path or a URL)");
}

function looksLikePath(v: string): boolean {
  return (
    v.length <= 4096 &&
    !/[\r\n]/.test(v) &&
    (v.startsWith("/") || v.startsWith("./") || v.startsWith("../") || v.includes("/") || v.includes("\\") || /\.[A-Za-z0-9]{2,5}$/.test(v))
  );
}

function isSafeKey(key: string): boolean {
  try {
    assertSafeKey(key);
    return true;
  } catch {
    return false;
  }
}

async function fromDataUrl(v: string, field: string, kind: MediaKind, deps: InputDeps): Promise<ResolvedInput> {
  const comma = v.indexOf(",");
  const header = comma > 0 ? v.slice(5, comma) : "";
  if (comma < 0 || !/;base64$/i.test(header)) throw validationAt(field, "data URL", "data URLs must be base64-encoded (data:<type>;base64,<data>)");
  const declared = header.replace(/;base64$/i, "").split(";")[0] || undefined;
  return fromBase64(v.slice(comma + 1).replace(/\s+/g, ""), declared, field, kind, deps);
}

async function fromBase64(data: string, declaredType: string | undefined, field: string, kind: MediaKind, deps: InputDeps): Promise<ResolvedInput> {
  if (!BASE64_RE.test(data) && !BASE64URL_RE.test(data)) throw validationAt(field, "base64", "is not valid base64");
  // Check the size from the text before decoding, so an oversize body costs no memory.
  const padding = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  const bytes = Math.floor((data.length * 3) / 4) - padding;
  const limit = maxBytes(kind, deps.inputs);
  if (bytes > limit) {
    throw new FarmError("PAYLOAD_TOO_LARGE", `${field}: decoded size ${bytes} bytes is larger than ${limit} bytes`, {
      field,
      constraint: limitName(kind),
      limit_bytes: limit,
    });
  }
  const buf = Buffer.from(data, BASE64_RE.test(data) ? "base64" : "base64url");
  const up = await storeUpload(Readable.from([buf]), { kind, field, declaredType }, deps);
  return { key: up.key, size: up.size, content_type: up.content_type, source: "base64", sha256: up.sha256 };
}

async function fromPath(v: string, field: string, kind: MediaKind, deps: InputDeps): Promise<ResolvedInput> {
  const { file, size } = await resolveServerPath(v, field, deps.paths);
  const outputKey = await outputKeyOfPath(file, deps.paths);
  if (outputKey !== null) await assertOutputAllowed(outputKey, field, deps.caller);
  const limit = maxBytes(kind, deps.inputs);
  if (size > limit) {
    throw new FarmError("PAYLOAD_TOO_LARGE", `${field}: the file (${size} bytes) is larger than ${limit} bytes`, {
      field,
      constraint: limitName(kind),
      limit_bytes: limit,
    });
  }
  const up = await storeUpload(fs.createReadStream(file), { kind, field, filename: path.basename(file) }, deps);
  return { key: up.key, size: up.size, content_type: up.content_type, source: "path", sha256: up.sha256 };
}

async function fromUploadRef(sha: string, field: string, kind: MediaKind, deps: InputDeps): Promise<ResolvedInput> {
  const s = sha.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(s)) throw validationAt(field, "upload reference", "upload references are 'upload:<sha256 hex>'");
  // Probe the few possible keys instead of listing: an fs store's list walks the whole tree.
  const keys = UPLOAD_EXTENSIONS.map((ext) => uploadKey(s, ext));
  const found = (await Promise.all(keys.map((k) => deps.store.stat(k)))).find((st) => st !== null);
  if (!found) throw validationAt(field, "exists", `no upload with sha256 ${s}`);
  return fromArtifact(found.key, field, kind, deps);
}

/**
 * A signed output link (`/outputs/<key>?exp=…&sig=…`): checked here, not fetched. The
 * signature is the caller's proof of access (only a reader of the job was given it).
 */
async function fromOutputLink(link: string, field: string, kind: MediaKind, deps: InputDeps): Promise<ResolvedInput> {
  const q = link.indexOf("?");
  const outputPath = link.slice(0, q);
  const params = new URLSearchParams(link.slice(q + 1));
  const key = outputPath.slice(1);
  if (!isSafeKey(key)) throw validationAt(field, "artifact key", "is not a valid output link");
  const exp = params.get("exp") ?? undefined;
  const sig = params.get("sig") ?? undefined;
  // Without a link checker (trusted in-process use) or with keys off, the path alone decides.
  if (deps.caller && !deps.caller.unrestricted) {
    const verdict = deps.caller.checkLink(outputPath, exp, sig);
    if (verdict !== "ok") throw linkRefusal(verdict, field, exp);
  }
  return fromArtifact(key, field, kind, deps, true);
}

/**
 * An absolute URL that is one of this API's signed output links (any host: behind a proxy
 * the API does not know its public name), as `/outputs/…?…`; null for any other URL,
 * which then goes the URL-input way (safe-fetch.ts).
 */
function signedLinkIn(v: string, deps: InputDeps): string | null {
  if (!deps.caller?.checkLink) return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return null;
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || !u.pathname.startsWith(OUTPUT_LINK) || !u.searchParams.has("sig")) return null;
  const exp = u.searchParams.get("exp") ?? undefined;
  // Only a link that verifies is ours; an expired one is ours too, and answered as such.
  if (deps.caller.checkLink(u.pathname, exp, u.searchParams.get("sig") ?? undefined) === "bad_signature") return null;
  return `${u.pathname}${u.search}`;
}

/** `checked`: the caller's right to an `outputs/` key was settled already (signed link, or checked before the stat). */
async function fromArtifact(key: string, field: string, kind: MediaKind, deps: InputDeps, checked = false): Promise<ResolvedInput> {
  if (!isSafeKey(key)) throw validationAt(field, "artifact key", "is not a valid artifact key");
  if (!ARTIFACT_PREFIXES.some((p) => key.startsWith(p)))
    throw validationAt(field, "artifact key", "artifact references must name a key under uploads/ or outputs/");
  if (!checked && key.startsWith(OUTPUTS)) await assertOutputAllowed(key, field, deps.caller);
  const st = await deps.store.stat(key);
  if (!st) throw validationAt(field, "exists", `artifact '${key}' does not exist`);
  if (st.size === 0) throw validationAt(field, "non-empty", `artifact '${key}' is empty`);
  const head: Buffer[] = [];
  for await (const c of await deps.store.get(key, { start: 0, end: Math.min(st.size, SNIFF_BYTES) - 1 })) head.push(Buffer.from(c as Buffer));
  const type = sniffType(Buffer.concat(head));
  if (!type) throw new FarmError("UNSUPPORTED_MEDIA_TYPE", `${field}: artifact '${key}' is not a supported media format`, { field, constraint: "format" });
  if (!type.kinds.includes(kind)) {
    throw new FarmError("UNSUPPORTED_MEDIA_TYPE", `${field}: expected ${kind}, artifact '${key}' is ${type.format} (${type.content_type})`, {
      field,
      constraint: `kind:${kind}`,
    });
  }
  return { key, size: st.size, content_type: type.content_type, source: "artifact" };
}
