/**
 * Fetching a URL input without becoming an SSRF proxy: only when `api.inputs.allow_http`
 * is on; the host is resolved first and every address it has must be public (unless
 * `allow_private_addresses`); the connection then goes to the address that was checked
 * (a pinned lookup), so a DNS answer that changes between check and connect (rebinding)
 * cannot redirect it. Redirects are followed a few times, each hop checked the same way.
 * The size limit is enforced while streaming (storeUpload) and up front from
 * Content-Length; the whole download has a timeout.
 */
import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { LookupFunction } from "node:net";
import { FarmError, validationAt } from "../../core/errors.ts";
import { isNonPublicAddress } from "../../core/net/address-policy.ts";
import { limitName, maxBytes, type HostLookup, type InputDeps } from "./input-deps.ts";
import type { MediaKind } from "./sniff.ts";
import { storeUpload, type StoredUpload } from "./uploads.ts";

const defaultLookup: HostLookup = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

/** Parse and vet a URL string (scheme, http policy); throws VALIDATION_ERROR naming the field. */
export function parseInputUrl(raw: string, field: string, deps: Pick<InputDeps, "inputs">): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw validationAt(field, "url", "not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw validationAt(field, "url scheme", `URL scheme '${url.protocol}' is not allowed (http and https only)`);
  if (!deps.inputs.allow_http) {
    throw validationAt(field, "api.inputs.allow_http", "URL inputs are disabled on this server (api.inputs.allow_http); send base64 or upload the file");
  }
  return url;
}

/**
 * Resolve the URL's host and return the address to connect to. Every address the host has
 * must be public unless private addresses are allowed: one private answer is enough to refuse.
 */
export async function vetHost(url: URL, field: string, deps: Pick<InputDeps, "inputs" | "lookup">): Promise<{ address: string; family: number }> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addrs: { address: string; family: number }[];
  if (net.isIP(host)) addrs = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addrs = await (deps.lookup ?? defaultLookup)(host);
    } catch {
      addrs = [];
    }
    if (addrs.length === 0) throw validationAt(field, "resolvable host", `host '${host}' cannot be resolved`);
  }
  if (!deps.inputs.allow_private_addresses) {
    const bad = addrs.find((a) => isNonPublicAddress(a.address));
    if (bad) {
      throw validationAt(
        field,
        "public address",
        `host '${host}' resolves to a non-public address (${bad.address}); refused (api.inputs.allow_private_addresses)`,
      );
    }
  }
  return addrs[0]!;
}

/** Download a URL input into the artifact store as an upload. */
export async function fetchToUpload(raw: string, field: string, kind: MediaKind, deps: InputDeps): Promise<StoredUpload> {
  let url = parseInputUrl(raw, field, deps);
  const timeoutMs = deps.fetchTimeoutMs ?? deps.inputs.fetch_timeout_ms ?? 30_000;
  const signal = AbortSignal.timeout(timeoutMs);
  const maxRedirects = deps.maxRedirects ?? 3;
  for (let hop = 0; ; hop++) {
    const pinned = await vetHost(url, field, deps);
    const res = await request(url, pinned, signal, field);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= maxRedirects) throw validationAt(field, "redirects", `more than ${maxRedirects} redirects`);
      url = parseInputUrl(new URL(res.headers.location, url).toString(), field, deps);
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw validationAt(field, "fetchable", `fetching the URL returned HTTP ${status}`);
    }
    const declared = Number(res.headers["content-length"]);
    const limit = maxBytes(kind, deps.inputs);
    if (Number.isFinite(declared) && declared > limit) {
      res.destroy();
      throw new FarmError("PAYLOAD_TOO_LARGE", `${field}: the URL's content (${declared} bytes) is larger than ${limit} bytes`, {
        field,
        constraint: limitName(kind),
        limit_bytes: limit,
      });
    }
    try {
      return await storeUpload(res, { kind, field, declaredType: res.headers["content-type"] }, deps);
    } catch (err) {
      if (err instanceof FarmError) throw err;
      throw signal.aborted
        ? validationAt(field, "timeout", `downloading the URL took longer than ${timeoutMs} ms`)
        : validationAt(field, "fetchable", `downloading the URL failed (${(err as Error).message})`);
    }
  }
}

function request(url: URL, pinned: { address: string; family: number }, signal: AbortSignal, field: string): Promise<http.IncomingMessage> {
  // Node asks this instead of DNS: the connection goes to the address we vetted.
  const lookup = ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (opts?.all) cb(null, [{ address: pinned.address, family: pinned.family }]);
    else cb(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
  const mod = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: "GET", agent: false, lookup, signal, headers: { "user-agent": "nano-banana-farm/1", accept: "*/*" } }, resolve);
    req.on("error", (err) => {
      reject(
        signal.aborted
          ? validationAt(field, "timeout", "the URL did not answer in time")
          : validationAt(field, "fetchable", `the URL cannot be fetched (${err.message})`),
      );
    });
    req.end();
  });
}
