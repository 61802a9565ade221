/**
 * Signed, expiring links to outputs (issue 18 item 3, issue 15 item 6).
 *
 * Decision: with API keys on, `GET /outputs/...` serves a file to an admin key, or to anyone
 * holding a link this API signed: `/outputs/<key>?exp=<unix s>&sig=<HMAC-SHA256>`, the HMAC
 * taken over "<path>\n<exp>" with `api.outputs.link_secret`. Every `/outputs/...` string in
 * a response (job results, sync answers, WebSocket messages) is replaced by such a link, so
 * only someone who could read the job (its owner, or an admin) ever gets one, and existing
 * clients, which fetch the URL the result gives them, keep working; a browser can put it in
 * an <img> without a key. Why links and not an owner check on the file: output keys do
 * not say which job wrote them (plugins name files freely), and a link is what a client
 * hands to a player or a CDN anyway. A leaked link works until it expires
 * (`api.outputs.link_ttl_s`, default 24 h); re-reading the job gives a fresh one.
 * With keys off there are no tenants: nothing is signed and every path is served.
 */
import crypto from "node:crypto";
import type { FarmConfig } from "../core/config/schema.ts";

export type LinkCheck = "ok" | "expired" | "bad_signature";

export interface OutputLinks {
  /** Whether links are signed at all (API keys on). */
  readonly enabled: boolean;
  /** `/outputs/<key>` -> the signed link, valid for link_ttl_s from `nowMs`. */
  sign(outputPath: string, nowMs?: number): string;
  check(outputPath: string, exp: string | undefined, sig: string | undefined, nowMs?: number): LinkCheck;
  /** A copy of `value` with every bare `/outputs/...` string signed (deep: results nest). */
  signAll<T>(value: T, nowMs?: number): T;
}

const OUTPUT_PREFIX = "/outputs/";
/** Deep enough for any result (batches of items with lists of files); deeper values are left as they are. */
const MAX_DEPTH = 12;

/**
 * No configured secret: one random secret per process, shared by every signer in it (the
 * API's, and the coordinator's for webhook bodies in the same process), so links work for
 * the process's lifetime. Several processes need `api.outputs.link_secret`.
 */
const PROCESS_SECRET = crypto.randomBytes(32).toString("hex");

export function createOutputLinks(cfg: Pick<FarmConfig["api"], "outputs" | "auth">): OutputLinks {
  const secret = cfg.outputs.link_secret ?? PROCESS_SECRET;
  const ttlS = cfg.outputs.link_ttl_s;
  const enabled = cfg.auth.enabled;
  const mac = (p: string, exp: string) => crypto.createHmac("sha256", secret).update(`${p}\n${exp}`).digest("base64url");

  const sign = (p: string, nowMs = Date.now()) => {
    const exp = String(Math.floor(nowMs / 1000) + ttlS);
    return `${p}?exp=${exp}&sig=${mac(p, exp)}`;
  };

  const walk = (v: unknown, nowMs: number, depth: number): unknown => {
    if (typeof v === "string") return v.startsWith(OUTPUT_PREFIX) && !v.includes("?") ? sign(v, nowMs) : v;
    if (depth >= MAX_DEPTH || v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, nowMs, depth + 1));
    // Plain objects only: a Buffer, stream or Date in a payload is not ours to rewrite.
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x, nowMs, depth + 1);
    return out;
  };

  return {
    enabled,
    sign,
    check(p, exp, sig, nowMs = Date.now()) {
      if (exp === undefined || sig === undefined || !/^\d{1,12}$/.test(exp)) return "bad_signature";
      const want = Buffer.from(mac(p, exp));
      const got = Buffer.from(sig);
      if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) return "bad_signature";
      return Number(exp) * 1000 < nowMs ? "expired" : "ok";
    },
    signAll: <T>(value: T, nowMs = Date.now()) => (enabled ? (walk(value, nowMs, 0) as T) : value),
  };
}

declare module "fastify" {
  interface FastifyInstance {
    /** The API's output-link signer (api/server.ts): routes that write results outside the JSON serializer (WebSocket) sign with it. */
    outputLinks: OutputLinks;
  }
}
