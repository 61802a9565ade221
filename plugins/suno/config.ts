/**
 * The suno plugin's settings: `plugins.suno` in farm.config.yaml.
 *
 * ```yaml
 * plugins:
 *   suno:
 *     base_url: http://127.0.0.1:3000   # required: the Suno API bridge (http/https)
 *     api_key: secret                   # optional: sent as `Authorization: Bearer <api_key>`
 *     timeout_ms: 30000                 # per HTTP call to the bridge (1..600000)
 *     poll_interval_ms: 5000            # between GET /api/get polls while clips render (10..600000)
 *     max_wait_s: 600                   # give up waiting for the audio after this long (0.001..86400)
 *     download: true                    # copy complete clips into the artifact store
 * ```
 * Every problem is a FarmError: no base_url -> CAPABILITY_UNAVAILABLE (the plugin is
 * disabled, its job types not advertised); a bad value -> VALIDATION_ERROR naming
 * `plugins.suno.<key>`.
 */
import { FarmError } from "../../core/errors.ts";

export interface SunoConfig {
  /** Bridge root without a trailing slash, e.g. "http://127.0.0.1:3000". */
  base_url: string;
  api_key?: string;
  timeout_ms: number;
  poll_interval_ms: number;
  max_wait_s: number;
  download: boolean;
}

export const SUNO_CONFIG_DEFAULTS = { timeout_ms: 30_000, poll_interval_ms: 5_000, max_wait_s: 600, download: true } as const;

const bad = (key: string, constraint: string, message: string) =>
  new FarmError("VALIDATION_ERROR", `plugins.suno.${key} ${message}`, { field: `plugins.suno.${key}`, constraint });

function num(raw: Record<string, unknown>, key: keyof typeof SUNO_CONFIG_DEFAULTS, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined || v === null) return SUNO_CONFIG_DEFAULTS[key] as number;
  if (typeof v !== "number" || !Number.isFinite(v)) throw bad(key, "number", `must be a number, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw bad(key, `${min}..${max}`, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

/** Validate `plugins.suno`. Throws CAPABILITY_UNAVAILABLE when no bridge is configured. */
export function parseSunoConfig(raw: Record<string, unknown> | undefined): SunoConfig {
  const cfg = raw ?? {};
  const base = cfg.base_url;
  if (base === undefined || base === null || base === "") {
    throw new FarmError("CAPABILITY_UNAVAILABLE", "suno bridge not configured: set plugins.suno.base_url", {
      field: "plugins.suno.base_url",
      constraint: "required",
    });
  }
  if (typeof base !== "string") throw bad("base_url", "string", `must be a URL string, got ${JSON.stringify(base)}`);
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw bad("base_url", "url", `must be an absolute http(s) URL, got '${base}'`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad("base_url", "http/https", `must use http or https, got '${url.protocol}'`);
  const apiKey = cfg.api_key;
  if (apiKey !== undefined && apiKey !== null && (typeof apiKey !== "string" || apiKey.length === 0 || /[\r\n]/.test(apiKey))) {
    throw bad("api_key", "string", "must be a non-empty single-line string");
  }
  const download = cfg.download ?? SUNO_CONFIG_DEFAULTS.download;
  if (typeof download !== "boolean") throw bad("download", "boolean", `must be true or false, got ${JSON.stringify(download)}`);
  return {
    base_url: url.href.replace(/\/+$/, ""),
    ...(typeof apiKey === "string" ? { api_key: apiKey } : {}),
    timeout_ms: num(cfg, "timeout_ms", 1, 600_000),
    poll_interval_ms: num(cfg, "poll_interval_ms", 10, 600_000),
    max_wait_s: num(cfg, "max_wait_s", 0.001, 86_400),
    download,
  };
}
