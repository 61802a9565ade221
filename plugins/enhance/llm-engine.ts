/**
 * Optional LLM engine: asks any OpenAI-compatible chat-completions endpoint to write one
 * stage's phrases. It never throws for a bad endpoint: every failure (HTTP error, timeout,
 * network, malformed JSON, unusable text) comes back as a reason, and the caller falls back
 * to the rules for that stage and records why. Only cancellation of the job throws.
 *
 * Config (farm.config.yaml `plugins.enhance.llm`):
 *   base_url     required, e.g. "http://127.0.0.1:8080/v1" (POST {base_url}/chat/completions)
 *   model        required, the model name sent in the request
 *   api_key      optional, sent as "Authorization: Bearer <api_key>"
 *   timeout_ms   per-stage request limit, default 10000
 *   stages       stage names the LLM writes, or "all" (default "all")
 *   temperature  default 0.2; max_tokens default 200
 */
import { FarmError } from "../../core/errors.ts";
import { STAGE_NAMES, type StageName } from "./types.ts";

export interface LlmConfig {
  base_url: string;
  model: string;
  api_key?: string;
  timeout_ms: number;
  stages: StageName[];
  temperature: number;
  max_tokens: number;
}

const bad = (key: string, message: string) =>
  new FarmError("VALIDATION_ERROR", `plugins.enhance.llm.${key} ${message}`, { field: `plugins.enhance.llm.${key}`, constraint: "config" });

/** Reads `llm` from the plugin's config; undefined when no LLM is configured. */
export function parseLlmConfig(pluginConfig: Record<string, unknown>): LlmConfig | undefined {
  const raw = pluginConfig["llm"];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) throw bad("", "must be a mapping");
  const c = raw as Record<string, unknown>;
  const baseUrl = c["base_url"];
  if (typeof baseUrl !== "string" || !/^https?:\/\//.test(baseUrl)) throw bad("base_url", "must be an http(s) URL");
  const model = c["model"];
  if (typeof model !== "string" || model.trim() === "") throw bad("model", "must be a non-empty string");
  const apiKey = c["api_key"];
  if (apiKey !== undefined && typeof apiKey !== "string") throw bad("api_key", "must be a string");
  const num = (key: string, dflt: number, min: number, max: number): number => {
    const v = c[key] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw bad(key, `must be a number in ${min}..${max}`);
    return v;
  };
  const stagesRaw = c["stages"] ?? "all";
  let stages: StageName[];
  if (stagesRaw === "all") stages = [...STAGE_NAMES];
  else if (Array.isArray(stagesRaw) && stagesRaw.every((s) => (STAGE_NAMES as readonly unknown[]).includes(s))) stages = stagesRaw as StageName[];
  else throw bad("stages", `must be "all" or a list of: ${STAGE_NAMES.join(", ")}`);
  const cfg: LlmConfig = {
    base_url: baseUrl.replace(/\/+$/, ""),
    model,
    timeout_ms: num("timeout_ms", 10_000, 1, 600_000),
    stages,
    temperature: num("temperature", 0.2, 0, 2),
    max_tokens: Math.round(num("max_tokens", 200, 16, 4096)),
  };
  if (typeof apiKey === "string" && apiKey !== "") cfg.api_key = apiKey;
  return cfg;
}

export interface LlmStageRequest {
  stage: StageName;
  /** What the stage contributes. */
  brief: string;
  style: { name: string; description: string; keywords: string[] };
  platform: string;
  subject: string;
  /** The prompt built by the stages so far. */
  draft: string;
}

export type LlmStageOutcome =
  | { ok: true; phrases: string[] }
  /** transport = the endpoint itself is failing (timeout, network, HTTP error): later stages skip it. */
  | { ok: false; reason: string; transport: boolean };

const SYSTEM_PROMPT =
  "You are an expert prompt writer for image and video generation models. You write one stage of a seven-stage " +
  "prompt enhancement. Reply with ONLY 2 to 8 short comma-separated prompt phrases for that stage (each under 12 words). " +
  "No sentences, no numbering, no quotes, no commentary, and do not repeat what the prompt already says.";

function userMessage(r: LlmStageRequest): string {
  return [
    `Stage: ${r.stage} - contributes ${r.brief}.`,
    `Style: ${r.style.name} (${r.style.description}; keywords: ${r.style.keywords.join(", ")}).`,
    `Platform: ${r.platform}.`,
    `Subject: ${r.subject}`,
    `Prompt so far: ${r.draft}`,
    `Write the ${r.stage} phrases now.`,
  ].join("\n");
}

/**
 * Turns the model's text into phrases, or explains why it is unusable. Accepts commas,
 * semicolons or new lines as separators and strips bullets, numbering, quotes and fences.
 */
export function parseLlmPhrases(content: string): { phrases: string[] } | { error: string } {
  const text = content.replace(/```[a-z]*\n?|```/gi, "").trim();
  if (text.length === 0) return { error: "empty answer" };
  if (text.length > 1500) return { error: `answer too long (${text.length} chars)` };
  const phrases = text
    .split(/[,;\n]+/)
    .map((p) =>
      p
        .trim()
        .replace(/^(?:[-*•]|\d+[.)])\s*/, "")
        .replace(/^["'“”]+|["'“”.]+$/g, "")
        .trim(),
    )
    .filter((p) => p.length > 0);
  if (phrases.length === 0) return { error: "no phrases in answer" };
  if (phrases.length > 12) return { error: `too many phrases (${phrases.length})` };
  const wordy = phrases.find((p) => p.split(/\s+/).length > 16 || p.length > 140);
  if (wordy) return { error: `not prompt phrases (a ${wordy.split(/\s+/).length}-word sentence)` };
  if (phrases.some((p) => !/[a-z]/i.test(p))) return { error: "phrase without words" };
  return { phrases };
}

/** One stage through the LLM. Throws only FarmError JOB_CANCELLED when `signal` aborts. */
export async function runLlmStage(cfg: LlmConfig, req: LlmStageRequest, signal?: AbortSignal, fetchImpl: typeof fetch = fetch): Promise<LlmStageOutcome> {
  const timeout = AbortSignal.timeout(cfg.timeout_ms);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (cfg.api_key) headers["authorization"] = `Bearer ${cfg.api_key}`;
  const body = JSON.stringify({
    model: cfg.model,
    temperature: cfg.temperature,
    max_tokens: cfg.max_tokens,
    messages: [
      { role: "system", content: SYSTEM_PROMPT },
      { role: "user", content: userMessage(req) },
    ],
  });
  let status: number;
  let text: string;
  try {
    const res = await fetchImpl(`${cfg.base_url}/chat/completions`, { method: "POST", headers, body, signal: combined });
    status = res.status;
    text = await res.text();
  } catch (err) {
    if (signal?.aborted) throw new FarmError("JOB_CANCELLED", "prompt enhancement cancelled");
    if (timeout.aborted) return { ok: false, reason: `timeout after ${cfg.timeout_ms} ms`, transport: true };
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    const why = typeof cause?.code === "string" ? cause.code : String(cause?.message ?? (err as Error).message ?? err);
    return { ok: false, reason: `connection failed: ${why}`, transport: true };
  }
  if (status < 200 || status >= 300) return { ok: false, reason: `HTTP ${status}${snippet(text)}`, transport: true };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: `malformed response: not JSON${snippet(text)}`, transport: false };
  }
  const content = (json as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0]?.message?.content;
  if (typeof content !== "string") return { ok: false, reason: "malformed response: no choices[0].message.content", transport: false };
  const parsed = parseLlmPhrases(content);
  if ("error" in parsed) return { ok: false, reason: `unusable answer: ${parsed.error}`, transport: false };
  return { ok: true, phrases: parsed.phrases };
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t ? ` (${t.length > 80 ? `${t.slice(0, 80)}...` : t})` : "";
}
