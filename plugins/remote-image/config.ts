/**
 * The remote-image plugin's settings: `plugins.remote-image` in farm.config.yaml.
 *
 * ```yaml
 * plugins:
 *   remote-image:
 *     timeout_ms: 120000        # per HTTP attempt (1..600000)
 *     max_retries: 4            # extra attempts after a 429 / 5xx / network error (0..10)
 *     retry_base_ms: 1000       # first back-off; doubles per retry, full jitter (1..60000)
 *     retry_max_ms: 30000       # cap of one back-off, and of an honoured Retry-After (1..600000)
 *     providers:
 *       openrouter:                          # any name
 *         protocol: openrouter-chat          # openrouter-chat | openai-images | gemini
 *         base_url: https://openrouter.ai/api/v1
 *         api_key_env: OPENROUTER_API_KEY    # or api_key: sk-... (env is preferred: keys stay out of files)
 *         models:                            # farm model id -> the provider's model name
 *           "google/gemini-2.0-flash-exp:free": "google/gemini-2.0-flash-exp:free"
 * ```
 *
 * A provider without a usable key is skipped (its models are not advertised; the reason
 * is logged and returned by `parseRemoteImageConfig` in `skipped`). A malformed value is a
 * VALIDATION_ERROR naming `plugins.remote-image.<path>`, so the agent refuses to start the
 * plugin with a clear reason rather than failing on the first job.
 */
import { validation } from "../../core/errors.ts";

export const PROTOCOLS = ["openrouter-chat", "openai-images", "gemini"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface ProviderConfig {
  name: string;
  protocol: Protocol;
  /** Without a trailing slash. */
  base_url: string;
  /** Resolved key (from api_key or the env var). Never logged, never put in an error. */
  api_key: string;
  /** farm model id -> provider model name. */
  models: Record<string, string>;
}

export interface RemoteImageConfig {
  timeout_ms: number;
  max_retries: number;
  retry_base_ms: number;
  retry_max_ms: number;
  providers: ProviderConfig[];
  /** farm model id -> the provider serving it (first configured provider wins). */
  byModel: Map<string, ProviderConfig>;
  /** Providers left out, with the reason (no key). */
  skipped: { provider: string; models: string[]; reason: string }[];
}

export const REMOTE_IMAGE_DEFAULTS = { timeout_ms: 120_000, max_retries: 4, retry_base_ms: 1_000, retry_max_ms: 30_000 } as const;

const P = "plugins.remote-image";
const bad = (key: string, constraint: string, message: string) => validation(`${P}.${key}`, constraint, `${P}.${key} ${message}`);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function int(raw: Record<string, unknown>, key: keyof typeof REMOTE_IMAGE_DEFAULTS, min: number, max: number): number {
  const v = raw[key];
  if (v === undefined || v === null) return REMOTE_IMAGE_DEFAULTS[key];
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    throw bad(key, `${min}..${max}`, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v as number;
}

/** Validate `plugins.remote-image`; `env` supplies api_key_env lookups (process.env by default). */
export function parseRemoteImageConfig(
  raw: Record<string, unknown> | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): RemoteImageConfig {
  const cfg = raw ?? {};
  const out: RemoteImageConfig = {
    timeout_ms: int(cfg, "timeout_ms", 1, 600_000),
    max_retries: int(cfg, "max_retries", 0, 10),
    retry_base_ms: int(cfg, "retry_base_ms", 1, 60_000),
    retry_max_ms: int(cfg, "retry_max_ms", 1, 600_000),
    providers: [],
    byModel: new Map(),
    skipped: [],
  };
  const providers = cfg.providers ?? {};
  if (!isObj(providers)) throw bad("providers", "object", "must be a map of provider name -> {protocol, base_url, api_key | api_key_env, models}");
  for (const [name, p] of Object.entries(providers)) {
    const at = `providers.${name}`;
    if (!isObj(p)) throw bad(at, "object", "must be an object");
    if (!PROTOCOLS.includes(p.protocol as Protocol))
      throw bad(`${at}.protocol`, "enum", `must be one of ${PROTOCOLS.join(", ")}, got ${JSON.stringify(p.protocol)}`);
    if (typeof p.base_url !== "string") throw bad(`${at}.base_url`, "required", "must be an http(s) URL");
    let url: URL;
    try {
      url = new URL(p.base_url);
    } catch {
      throw bad(`${at}.base_url`, "url", `must be an absolute http(s) URL, got '${p.base_url}'`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw bad(`${at}.base_url`, "http/https", `must use http or https, got '${url.protocol}'`);
    if (!isObj(p.models) || Object.keys(p.models).length === 0)
      throw bad(`${at}.models`, "required", "must map at least one farm model id to the provider's model name");
    const models: Record<string, string> = {};
    for (const [farmId, providerModel] of Object.entries(p.models)) {
      if (!/^[A-Za-z0-9._:/-]{1,200}$/.test(farmId))
        throw bad(`${at}.models`, "pattern", `has an invalid farm model id '${farmId}' (letters, digits, . _ : / -)`);
      if (typeof providerModel !== "string" || providerModel.length === 0) throw bad(`${at}.models.${farmId}`, "string", "must be the provider's model name");
      models[farmId] = providerModel;
    }
    if (p.api_key !== undefined && (typeof p.api_key !== "string" || /[\r\n]/.test(p.api_key)))
      throw bad(`${at}.api_key`, "string", "must be a single-line string");
    if (p.api_key_env !== undefined && (typeof p.api_key_env !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.api_key_env))) {
      throw bad(`${at}.api_key_env`, "pattern", "must be an environment variable name");
    }
    const key =
      (typeof p.api_key === "string" && p.api_key.length > 0 ? p.api_key : undefined) ?? (typeof p.api_key_env === "string" ? env[p.api_key_env] : undefined);
    if (!key) {
      const reason =
        p.api_key_env !== undefined
          ? `no API key: environment variable ${String(p.api_key_env)} is not set`
          : `no API key: set ${P}.${at}.api_key or .api_key_env`;
      out.skipped.push({ provider: name, models: Object.keys(models), reason });
      continue;
    }
    if (/[\r\n]/.test(key)) throw bad(`${at}.api_key_env`, "string", "names a variable whose value is not a single line");
    const prov: ProviderConfig = { name, protocol: p.protocol as Protocol, base_url: url.href.replace(/\/+$/, ""), api_key: key, models };
    out.providers.push(prov);
    for (const id of Object.keys(models)) if (!out.byModel.has(id)) out.byModel.set(id, prov);
  }
  return out;
}
