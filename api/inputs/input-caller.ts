/**
 * Who asks for an input, and whether they may name a stored output (issue 18, tenancy).
 *
 * Output keys carry no owner field, but every plugin names its files after the job that
 * wrote them (`outputs/images/<job>.png`, `outputs/music/musicgen-<job>.mp3`, a later
 * attempt's `<job>.lease2.png`, a batch child's `<job>-3.png`), so the job is found from
 * the key: an `outputs/` input is accepted when the caller may read a job whose id the key
 * contains (its owner, or an admin), or when it comes as a signed output link
 * (api/output-links.ts), which is what API clients actually hold. A key naming no job the
 * caller can read is refused before the store is looked at, so the answer is the same
 * whether the file exists or not: no existence oracle.
 *
 * Uploads (`uploads/<sha[0:2]>/<sha>.<ext>`, `upload:<sha>`) stay shared by design: they
 * are content-addressed, so naming one needs its SHA-256, which only someone holding the
 * bytes (or told the hash) has; no route lists them, and job params that carry upload
 * keys are shown to the job's owner only. A hash is therefore a capability, like a
 * signed link without expiry.
 *
 * Absent caller (InputDeps.caller undefined): a trusted in-process use (tests, tools) with
 * no tenant to check. The API always passes one (api/media.ts requires the request).
 */
import { FarmError } from "../../core/errors.ts";
import type { LinkCheck } from "../output-links.ts";

export interface InputCaller {
  /** Any stored output may be used: an admin key, or API keys off (no tenants). */
  readonly unrestricted: boolean;
  /** Whether the caller may read job `id` (its owner, an admin, or a job without an owner); false when there is no such job. */
  canReadJob(id: string): Promise<boolean>;
  /** Whether `/outputs/<key>` with this `exp` and `sig` is a link this API signed and that has not expired. */
  checkLink(outputPath: string, exp: string | undefined, sig: string | undefined): LinkCheck;
}

/** A job id (crypto.randomUUID) with any child suffixes (`<parent>-<index>`, coordinator/parent-jobs.ts). */
const JOB_ID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:-\d{1,6})*/g;
/** Bounds the job look-ups one input can cost. */
const MAX_CANDIDATES = 6;

/** The job ids a key may name, longest (a child) first, then its parents. */
export function jobIdsInKey(key: string): string[] {
  const out: string[] = [];
  for (const m of key.toLowerCase().matchAll(JOB_ID_RE)) {
    let id = m[0];
    for (;;) {
      if (!out.includes(id)) out.push(id);
      const dash = id.lastIndexOf("-");
      if (id.length <= 36 || dash < 36) break;
      id = id.slice(0, dash);
    }
  }
  return out.slice(0, MAX_CANDIDATES);
}

/**
 * Throw unless `caller` may use the output `key` (`outputs/...`). Checked before the store
 * is read: the refusal does not say whether the file exists.
 */
export async function assertOutputAllowed(key: string, field: string, caller: InputCaller | undefined): Promise<void> {
  if (!caller || caller.unrestricted) return;
  for (const id of jobIdsInKey(key)) if (await caller.canReadJob(id)) return;
  throw new FarmError(
    "FORBIDDEN",
    `${field}: '${key}' is not an output of a job this API key can read; pass the signed link (the *_url value) its job's result gives`,
    { field, constraint: "owned_output" },
  );
}

/** The refusal of a signed link that is not ours or has expired, naming the field. */
export function linkRefusal(verdict: Exclude<LinkCheck, "ok">, field: string, exp: string | undefined): FarmError {
  if (verdict === "expired") {
    return new FarmError(
      "FORBIDDEN",
      `${field}: this output link expired at ${new Date(Number(exp) * 1000).toISOString()}; read the job again for a fresh link`,
      { field, constraint: "not_expired" },
    );
  }
  return new FarmError("FORBIDDEN", `${field}: this output link's signature does not match its path and expiry`, { field, constraint: "signed_link" });
}

/** Deep enough for any job's params (clips of a timeline with their own fields); deeper values are not looked at by plugins either. */
const MAX_PARAM_DEPTH = 12;
/** Bounds the work one request can ask for: output references checked per request. */
const MAX_PARAM_REFS = 64;

/**
 * The raw-params route (POST /api/v1/jobs) hands `params` to the plugin as they are, so
 * an output named there reaches the plugin's store reads without the input resolution the
 * typed routes do. Every string in them that names an output (`outputs/…`,
 * `artifact:outputs/…`, `/outputs/…`) faces the same check: a job the caller can read, or a
 * valid signed link. The field is the param's path, e.g. `params.clips[1].path`.
 */
export async function assertParamsOutputsAllowed(params: unknown, caller: InputCaller | undefined, field = "params"): Promise<void> {
  if (!caller || caller.unrestricted) return;
  const refs: { key: string; link?: string; field: string }[] = [];
  const walk = (v: unknown, at: string, depth: number): void => {
    if (refs.length > MAX_PARAM_REFS) return;
    if (typeof v === "string") {
      const ref = outputRef(v);
      if (ref) refs.push({ ...ref, field: at });
      return;
    }
    if (depth >= MAX_PARAM_DEPTH || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`, depth + 1));
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, `${at}.${k}`, depth + 1);
  };
  walk(params, field, 0);
  if (refs.length > MAX_PARAM_REFS) {
    throw new FarmError("VALIDATION_ERROR", `${field}: more than ${MAX_PARAM_REFS} output references`, {
      field,
      constraint: `max_output_refs:${MAX_PARAM_REFS}`,
    });
  }
  for (const r of refs) {
    if (r.link !== undefined) {
      const q = new URLSearchParams(r.link.slice(r.link.indexOf("?") + 1));
      const exp = q.get("exp") ?? undefined;
      const verdict = caller.checkLink(r.link.slice(0, r.link.indexOf("?")), exp, q.get("sig") ?? undefined);
      if (verdict === "ok") continue;
      throw linkRefusal(verdict, r.field, exp);
    }
    await assertOutputAllowed(r.key, r.field, caller);
  }
}

/** The output a param string names, if any: its key, and the link when it is a signed one. */
function outputRef(raw: string): { key: string; link?: string } | null {
  let v = raw.trim();
  if (v.startsWith("artifact:")) v = v.slice("artifact:".length);
  if (v.startsWith("/outputs/")) {
    const q = v.indexOf("?");
    const key = v.slice(1, q < 0 ? undefined : q);
    return q < 0 ? { key } : { key, link: v };
  }
  return v.startsWith("outputs/") ? { key: v } : null;
}
